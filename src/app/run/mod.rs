//! One run lifecycle for every job panel (classifier, refinement, GAN): the states and
//! transitions of a worker job ([`lifecycle`]), the hook that owns its worker ([`hook`]), its
//! buttons, messages and progress ([`controls`]), and reopening a stored run ([`resume`]).

pub mod clock;
pub mod controls;
pub mod data_choice;
pub mod hook;
pub mod job;
pub mod lifecycle;
pub mod resume;
