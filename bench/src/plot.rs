//! SVG plots (plotters).
