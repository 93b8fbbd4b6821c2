//! Onesheet's vocabulary: media items, display settings and their layering, the playlist rules,
//! devices and the WebSocket protocol that screens speak.
//!
//! Nothing here performs I/O. Sources, the store and the server all speak these types, so a rule
//! written here (a cursor format, a settings bound) holds the same everywhere.

pub mod dedupe;
pub mod device;
pub mod filters;
pub mod links;
pub mod media;
pub mod now_playing;
pub mod playlist;
pub mod presets;
pub mod protocol;
pub mod settings;
pub mod validation;

pub use dedupe::{Deduped, dedupe};
pub use device::{
    DeviceId, DeviceRecord, DeviceSecret, DeviceStatus, Group, GroupMode, PairingCode,
    PairingCodeError, PairingTicket, Presence, PresenceWindows, Profile, ScreenSize,
};
pub use filters::{AgeRating, CatalogFilter, CompiledFilter};
pub use media::{
    Badges, ExternalLinks, ImageKind, ImageRef, ItemId, ItemImages, MediaItem, MediaKind, Ratings,
    SourceId,
};
pub use now_playing::{NowPlaying, NowPlayingEvent, NowPlayingItem, PlaybackState};
pub use playlist::{Cursor, DisplayMode, PlaylistQuery};
pub use protocol::{
    ClientMessage, Command, CommandId, CommandState, ErrorCode, Hello, HelloAuth, PairingResume,
    ProtocolError, ServerMessage, parse_client_message, parse_server_message,
};
pub use settings::overrides::SettingsOverride;
pub use settings::{
    CinemaOrientation, CinemaSettings, DisplaySettings, Layout, ScreensaverSettings, TileAnimation,
    TileShape, Transition, WallartLayout, WallartSettings,
};
pub use validation::{FieldError, ValidationErrors, bidi_control_message, find_bidi_control};
