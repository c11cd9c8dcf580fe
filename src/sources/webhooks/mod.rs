//! The webhook sources `github`, `gitlab` and `pagerduty` (FORMATS.md §6): what teams that
//! have no DevOps toolkit compute DORA and CI health from.

pub mod delivery;
