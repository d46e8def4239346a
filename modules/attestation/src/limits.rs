//! The size bounds of a vote extension's payload (no dependencies, so that
//! the error texts can name them too).

pub const MIN_SALT: usize = 16;
pub const MAX_SALT: usize = 32;
/// Hard bound on a digest's length whatever the params say (a projection of
/// 1024 elements plus its scale).
pub const MAX_DIGEST: usize = 1025;
