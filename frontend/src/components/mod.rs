//! Widgets shared by the pages.

pub mod deliveries;
pub mod trend_chart;
pub mod widgets;
