//! Result writers: ngspice raw files ([`raw`]), CSV ([`csv`]), SVG/PNG plots ([`plot`]) and
//! the terminal summary ([`table`]). Everything takes [`crate::results::Plot`]s, so each
//! analysis gets every output format for free.

pub mod csv;
pub mod plot;
pub mod raw;
pub mod table;

pub use csv::write_csv;
pub use plot::{heatmap, histogram, line_chart, plot_waveforms};
pub use raw::{RawFormat, read_raw, write_raw};
pub use table::{eng, final_values_table};
