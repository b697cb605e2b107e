//! The customers: scripted sessions sending their events to branches.
//!
//! | module | what it holds |
//! |---|---|
//! | [`runner`] | customer sessions as tasks, following a schedule |
//! | [`pacer`] | permits for scripted events (play / step / pause), observable |

pub mod pacer;
pub mod runner;
