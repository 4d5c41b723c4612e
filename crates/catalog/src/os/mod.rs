//! Operating-system detection and OS package databases.
