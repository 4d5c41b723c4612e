//! Container images: sources, manifests, configs and layer streaming.
