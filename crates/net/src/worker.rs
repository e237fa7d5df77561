//! Per-core media workers (being written by the lead; do not edit).
