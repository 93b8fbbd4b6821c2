//! Local folder source (being written).
