//! Secret scanning: built-in rules for credentials, a keyword prefilter so
//! most files never reach a regex, entropy checks and allowlists.
