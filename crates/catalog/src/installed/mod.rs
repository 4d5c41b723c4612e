//! Language packages installed on a filesystem (as opposed to locked in a project).
