//! Widgets shared by the pages.

pub mod trend_chart;
pub mod widgets;
