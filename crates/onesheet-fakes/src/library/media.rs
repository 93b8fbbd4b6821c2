//! Technical description of a playable item's file: resolution, dynamic range and audio, from
//! which each fake builds its stream list.

/// Vertical resolution class, as Plex's `videoResolution` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Sd,
    Hd720,
    Hd1080,
    Uhd4k,
}

impl Resolution {
    /// Frame size in pixels.
    pub fn dimensions(self) -> (u32, u32) {
        match self {
            Resolution::Sd => (720, 480),
            Resolution::Hd720 => (1280, 720),
            Resolution::Hd1080 => (1920, 1080),
            Resolution::Uhd4k => (3840, 2160),
        }
    }

    /// Plex `Media.videoResolution` value.
    pub fn plex_name(self) -> &'static str {
        match self {
            Resolution::Sd => "sd",
            Resolution::Hd720 => "720",
            Resolution::Hd1080 => "1080",
            Resolution::Uhd4k => "4k",
        }
    }

    /// Leading word of stream display titles ("4K", "1080p").
    pub fn label(self) -> &'static str {
        match self {
            Resolution::Sd => "480p",
            Resolution::Hd720 => "720p",
            Resolution::Hd1080 => "1080p",
            Resolution::Uhd4k => "4K",
        }
    }
}

/// Dynamic range of the video stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicRange {
    Sdr,
    Hdr10,
    Hdr10Plus,
    Hlg,
    /// Dolby Vision with its profile. Profiles 7 and 8 carry an HDR10 base layer, profile 5
    /// does not.
    DolbyVision {
        profile: u8,
    },
}

impl DynamicRange {
    /// Whether the stream uses the PQ transfer function (`smpte2084`), as HDR10 and most Dolby
    /// Vision files do.
    pub fn is_pq(self) -> bool {
        matches!(
            self,
            DynamicRange::Hdr10 | DynamicRange::Hdr10Plus | DynamicRange::DolbyVision { .. }
        )
    }

    /// Returns whether a Dolby Vision file also carries an HDR10 base layer.
    pub fn has_hdr10_base(self) -> bool {
        matches!(self, DynamicRange::DolbyVision { profile: 7 | 8 })
    }
}

/// Audio format of the default audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Aac,
    Ac3,
    Eac3,
    /// Dolby Digital Plus with Atmos (joint object coding).
    Eac3Atmos,
    /// Dolby TrueHD with Atmos.
    TrueHdAtmos,
    /// DTS-HD Master Audio.
    DtsHdMa,
    Flac,
}

impl AudioFormat {
    /// Codec name as ffprobe, Jellyfin and Plex report it.
    pub fn codec(self) -> &'static str {
        match self {
            AudioFormat::Aac => "aac",
            AudioFormat::Ac3 => "ac3",
            AudioFormat::Eac3 | AudioFormat::Eac3Atmos => "eac3",
            AudioFormat::TrueHdAtmos => "truehd",
            AudioFormat::DtsHdMa => "dca",
            AudioFormat::Flac => "flac",
        }
    }

    pub fn is_atmos(self) -> bool {
        matches!(self, AudioFormat::Eac3Atmos | AudioFormat::TrueHdAtmos)
    }
}

/// The file behind a playable item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaInfo {
    pub resolution: Resolution,
    pub dynamic_range: DynamicRange,
    pub video_codec: &'static str,
    pub audio: AudioFormat,
    /// Audio channel count (6 for 5.1, 8 for 7.1).
    pub channels: u8,
    pub container: &'static str,
    pub size_bytes: u64,
    /// Overall bitrate in kbit/s.
    pub bitrate_kbps: u32,
}

impl MediaInfo {
    /// Channel layout label ("5.1", "7.1", "stereo").
    pub fn channel_layout(&self) -> &'static str {
        match self.channels {
            8 => "7.1",
            6 => "5.1",
            2 => "stereo",
            _ => "mono",
        }
    }
}
