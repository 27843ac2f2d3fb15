//! The report's plots, drawn with `plotters` to SVG (inlined in the HTML,
//! and written as files when asked) and, when asked, PNG.
//!
//! - [`waterfall`]: the responses of one train stacked top to bottom, each on
//!   its own baseline, with the measurement markers (onset, negative peak, end
//!   of the negative phase, baseline) and a calibration bar.
//! - [`superimposed`]: the same responses drawn over one another on a common
//!   baseline, so the decrement or increment shows as a fan of curves.
//! - [`trends`]: amplitude and area of every response as % of the train's
//!   first response, one line per train (low-rate trains and high-rate trains
//!   in separate panels, their scales differ).
//! - [`post_exercise`]: each low-rate train's first response as % of the
//!   reference baseline train's, and each train's decrement, with the criteria.
//!
//! Text is drawn with DejaVu Sans compiled into the binary (plotters'
//! `ab_glyph` feature), so no system font is needed and the PNGs are the same on
//! every machine. SVG text names the `sans-serif` family and is set by the
//! viewer. Waveforms are oriented with the main (negative) phase **up**, as EMG
//! displays draw it. A figure is drawn from one description at 2×: as compact
//! SVG (in half-pixel units, shown at 1×) and, when asked, as PNG; nothing in it
//! depends on time or chance, so the same input gives the same bytes.

use super::svg::CompactSvg;
use super::words;
use crate::analysis::result::TrainOut;
use crate::analysis::traces::{decimate, ResponseTrace, TrainTraces};
use crate::analysis::Analysis;
use crate::settings::criteria::Criteria;
use crate::vocab::TrainRole;
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The font compiled into the binary (DejaVu Sans; licence in `assets/fonts/`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Most responses a waterfall stacks; longer trains show an even selection.
pub const MAX_WATERFALL: usize = 20;
/// Most responses superimposed; longer trains show an even selection.
pub const MAX_SUPERIMPOSED: usize = 40;
/// Most responses in a first-page waterfall.
pub const MAX_MINI: usize = 10;
/// The SVG is drawn at this scale and shown at 1×: its coordinates are in
/// half pixels (see [`CompactSvg::new`]).
const SVG_SCALE: u32 = 2;
/// Most responses of a train whose trend points are marked with dots.
const MAX_MARKED: usize = 60;
/// Most points drawn per response curve (the plot is about 600 px wide).
const MAX_DRAWN_POINTS: usize = 600;

/// Font sizes at 1× (SVG pixels). The SVG is shown about 0.9× in the report.
const FS_TITLE: u32 = 17;
const FS_TICK: u32 = 14;
const FS_DESC: u32 = 14;
const FS_LEGEND: u32 = 13;
const FS_NOTE: u32 = 12;
/// Right margin that holds the labels of criterion lines.
const REF_MARGIN: u32 = 124;

const INK: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);
const MUTED: RGBColor = RGBColor(0x6b, 0x6b, 0x6b);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const TRACE: RGBColor = RGBColor(0x1d, 0x3f, 0x6e);
const BASELINE: RGBColor = RGBColor(0x8a, 0x8a, 0x8a);
const ONSET: RGBColor = RGBColor(0x1a, 0x8a, 0x3c);
const PEAK: RGBColor = RGBColor(0xc0, 0x27, 0x2d);
const PHASE_END: RGBColor = RGBColor(0xd9, 0x7a, 0x00);
const CRITERION: RGBColor = RGBColor(0xc0, 0x27, 0x2d);
const CRITERION_SOFT: RGBColor = RGBColor(0xd9, 0x7a, 0x00);

/// Train colours (Okabe–Ito, distinguishable with colour-vision deficiency).
const TRAIN_COLOURS: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x56, 0xb4, 0xe9),
    RGBColor(0x00, 0x00, 0x00),
];

/// Colour of train `index` (1-based), stable across plots.
pub fn train_colour(index: usize) -> RGBColor {
    TRAIN_COLOURS[index.saturating_sub(1) % TRAIN_COLOURS.len()]
}

/// A rendered figure: always as SVG, as PNG when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name without extension, e.g. `train1_waterfall`.
    pub name: String,
    /// One-line description (figure caption).
    pub caption: String,
    /// SVG document (compact: see [`super::svg`]).
    pub svg: String,
    /// PNG file bytes (2× the SVG's pixel size), when drawn.
    pub png: Option<Vec<u8>>,
}

/// A plot could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw plot {name}: {reason}")]
pub struct RenderError {
    /// Plot name.
    pub name: String,
    /// What failed.
    pub reason: String,
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can be drawn on any backend at scale `k` (2 for SVG and PNG).
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB>;
}

/// Register the bundled font once; plotters looks fonts up by family name.
fn ensure_font() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    })
}

/// Draw `fig` as SVG and, with `png`, as PNG at twice the size.
fn render<F: Figure>(name: &str, caption: String, fig: &F, png: bool) -> Result<Plot, RenderError> {
    let fail = |reason: String| RenderError {
        name: name.to_string(),
        reason,
    };
    if !ensure_font() {
        return Err(fail("the bundled font could not be loaded".into()));
    }
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = CompactSvg::new(&mut svg, (w, h), SVG_SCALE).into_drawing_area();
        fig.draw(&root, SVG_SCALE)
            .map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let png = if png {
        Some(render_png(fig).map_err(fail)?)
    } else {
        None
    };
    Ok(Plot {
        name: name.to_string(),
        caption,
        svg,
        png,
    })
}

/// Draw `fig` at 2× and encode it as PNG.
fn render_png<F: Figure>(fig: &F) -> Result<Vec<u8>, String> {
    let (w, h) = fig.size();
    let (pw, ph) = (2 * w, 2 * h);
    let mut rgb = vec![0u8; pw as usize * ph as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (pw, ph)).into_drawing_area();
        fig.draw(&root, 2).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_png(&rgb, pw, ph).map_err(|e| e.to_string())
}

/// Encode an RGB buffer as PNG (no timestamp or other varying chunk).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

fn text_style<'a>(k: u32, size: u32, colour: RGBColor) -> TextStyle<'a> {
    TextStyle {
        font: ("sans-serif", f64::from(size * k)).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Top),
    }
}

/// Draw `text` at absolute backend pixel `at` on `area` (which may be offset).
fn text_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: String,
    at: (i32, i32),
    style: TextStyle<'_>,
) -> DrawResult<DB> {
    let (bx, by) = area.get_base_pixel();
    area.draw(&Text::new(text, (at.0 - bx, at.1 - by), style))
}

fn title_style<'a>(k: u32) -> TextStyle<'a> {
    TextStyle::from(("sans-serif", f64::from(FS_TITLE * k), FontStyle::Bold).into_font())
        .color(&INK)
}

/// A chart with both axes in `f64`, as every figure draws.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart of every figure: the caption above, room for the tick labels
/// and `right` (unscaled) pixels spare on the right.
fn cartesian<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    k: u32,
    right: u32,
    caption: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(area)
        .margin_top(8 * k)
        .margin_left(6 * k)
        .margin_right(right * k)
        .caption(caption, title_style(k))
        .x_label_area_size(48 * k)
        .y_label_area_size(68 * k)
        .build_cartesian_2d(x, y)
}

/// The grid, axes and text every figure's mesh shares; the caller adds its
/// labels, formatters and axis descriptions, then draws.
fn styled_mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut Chart<'a, DB>,
    k: u32,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut mesh = chart.configure_mesh();
    mesh.max_light_lines(0)
        .bold_line_style(GRID.stroke_width(k))
        .axis_style(MUTED.stroke_width(k))
        .label_style(text_style(k, FS_TICK, INK))
        .axis_desc_style(text_style(k, FS_DESC, INK))
        .set_all_tick_mark_size(4 * k);
    mesh
}

/// `n` indices spread evenly over `0..total` (all of them when they fit),
/// always including the first and the last.
pub fn pick_even(total: usize, n: usize) -> Vec<usize> {
    if total <= n {
        return (0..total).collect();
    }
    if n < 2 {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..n)
        .map(|i| (i * (total - 1) + (n - 1) / 2) / (n - 1))
        .collect();
    v.dedup();
    v
}

/// The points of a trace to draw, fewer when the trace is long.
fn drawn_points(r: &ResponseTrace) -> Vec<(f64, f64)> {
    let ys: Vec<f64> = r.points.iter().map(|p| p.1).collect();
    decimate(&ys, MAX_DRAWN_POINTS)
        .into_iter()
        .map(|i| r.points[i])
        .collect()
}

/// Extent of a response after the artifact, relative to its baseline.
fn response_extent(r: &ResponseTrace) -> (f64, f64) {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = r.peak_mv - r.baseline_mv;
    for &(t, v) in &r.points {
        if t >= r.blank_end_ms {
            lo = lo.min(v - r.baseline_mv);
            hi = hi.max(v - r.baseline_mv);
        }
    }
    (lo, hi)
}

/// A round calibration value at most `max` (1, 2, 5 × 10ⁿ).
fn nice_below(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [5.0, 2.0, 1.0]
        .iter()
        .map(|m| m * p)
        .find(|&v| v <= max)
        .unwrap_or(p)
}

/// Format a millivolt value for a label (no trailing zeros).
fn mv_label(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0} mV")
    } else if v >= 0.1 {
        format!("{v:.1} mV")
    } else {
        format!("{:.0} µV", v * 1000.0)
    }
}

/// The x range of a set of traces: from 2 ms before the stimulus to the end
/// of the longest window.
fn time_range(traces: &[&ResponseTrace]) -> (f64, f64) {
    // Past about 2.5 × the negative phase the window holds only the tail.
    let phase_end = traces.iter().map(|r| r.phase_end_ms).fold(0.0, f64::max);
    let tail_end = (2.5 * phase_end).max(20.0);
    let first = traces
        .iter()
        .filter_map(|r| r.points.first().map(|p| p.0))
        .fold(f64::INFINITY, f64::min);
    let last = traces
        .iter()
        .filter_map(|r| r.points.last().map(|p| p.0))
        .fold(f64::NEG_INFINITY, f64::max);
    let x0 = if first.is_finite() {
        first.max(-2.0)
    } else {
        -2.0
    };
    let x1 = if last.is_finite() && last > x0 + 1.0 {
        last.min(tail_end)
    } else {
        x0 + 20.0
    };
    (x0, x1)
}

/// Criterion lines (`level`, label, colour) across a chart from `xa` to `xb`,
/// labelled in the right margin; labels closer than a text line are pushed
/// apart downwards, so none hides another or the data.
fn reference_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    area: &DrawingArea<DB, Shift>,
    refs: &[RefLine],
    (xa, xb): (f64, f64),
    k: u32,
) -> DrawResult<DB> {
    for (level, _, colour) in refs {
        chart.draw_series(DashedLineSeries::new(
            vec![(xa, *level), (xb, *level)],
            6 * k,
            4 * k,
            colour.stroke_width(k),
        ))?;
    }
    let mut at: Vec<(i32, &str, RGBColor)> = refs
        .iter()
        .map(|(level, label, colour)| {
            (
                chart.backend_coord(&(xb, *level)).1,
                label.as_str(),
                *colour,
            )
        })
        .collect();
    at.sort_by_key(|a| a.0);
    let gap = ((FS_NOTE + 2) * k) as i32;
    for i in 1..at.len() {
        if at[i].0 - at[i - 1].0 < gap {
            at[i].0 = at[i - 1].0 + gap;
        }
    }
    let x = chart.backend_coord(&(xb, 0.0)).0 + (6 * k) as i32;
    for (y, label, colour) in at {
        text_at(
            area,
            label.to_string(),
            (x, y),
            text_style(k, FS_NOTE, colour).pos(Pos::new(HPos::Left, VPos::Center)),
        )?;
    }
    Ok(())
}

/// A legend entry's symbol.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Triangle(RGBColor),
    Dot(RGBColor),
    Cross(RGBColor),
    Square(RGBColor),
}

/// Draw a one-row legend centred in `area`.
/// Height of one legend row, unscaled pixels.
const LEGEND_ROW: u32 = 24;

/// An item's width in a legend, unscaled pixels: the symbol and the text,
/// estimated from its characters (the same on every backend, so the SVG and
/// the PNG wrap alike; the bundled font averages under 0.6 em a character).
fn legend_item_width(text: &str) -> u32 {
    26 + (0.6 * f64::from(FS_LEGEND) * text.chars().count() as f64).ceil() as u32
}

/// The rows of a legend `width` (unscaled) pixels wide: items in order,
/// a row closed when the next item would not fit.
fn legend_rows(items: &[(Mark, String)], width: u32) -> Vec<std::ops::Range<usize>> {
    let gap = 16;
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, (_, t)) in items.iter().enumerate() {
        let w = legend_item_width(t);
        if i > start && used + gap + w > width.saturating_sub(8) {
            rows.push(start..i);
            start = i;
            used = 0;
        }
        used += if i == start { w } else { gap + w };
    }
    if start < items.len() {
        rows.push(start..items.len());
    }
    rows
}

/// The height a legend of `items` takes in a figure `width` pixels wide.
fn legend_height(items: &[(Mark, String)], width: u32) -> u32 {
    LEGEND_ROW * legend_rows(items, width).len().max(1) as u32 + 8
}

/// Draw a legend: rows of symbol + text, each row centred, wrapped so that
/// no item leaves the figure.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Mark, String)],
    k: u32,
) -> DrawResult<DB> {
    let style = text_style(k, FS_LEGEND, INK);
    let sym = 22 * k as i32;
    let gap = 16 * k as i32;
    let (w, h) = area.dim_in_pixel();
    let rows = legend_rows(items, w / k);
    let row_h = (LEGEND_ROW * k) as i32;
    let top = (h as i32 - row_h * rows.len() as i32) / 2;
    for (r, range) in rows.iter().enumerate() {
        let widths: Vec<i32> = items[range.clone()]
            .iter()
            .map(|(_, t)| (legend_item_width(t) * k) as i32 - sym - 4 * k as i32)
            .collect();
        let total: i32 = widths.iter().map(|w| w + sym + 4 * k as i32).sum::<i32>()
            + gap * (widths.len() as i32 - 1).max(0);
        let mut x = ((w as i32 - total) / 2).max(4 * k as i32);
        let cy = top + row_h * r as i32 + row_h / 2;
        for ((mark, text), tw) in items[range.clone()].iter().zip(widths) {
            let cx = x + sym / 2;
            let half = sym / 2 - 2 * k as i32;
            let s = 4 * k as i32;
            match *mark {
                Mark::Line(c, wd) => area.draw(&PathElement::new(
                    vec![(cx - half, cy), (cx + half, cy)],
                    c.stroke_width(wd * k),
                ))?,
                Mark::Dashed(c) => {
                    for i in 0..3 {
                        let a = cx - half + i * (2 * half / 3) + k as i32;
                        area.draw(&PathElement::new(
                            vec![(a, cy), (a + half / 2, cy)],
                            c.stroke_width(2 * k),
                        ))?;
                    }
                }
                Mark::Triangle(c) => {
                    area.draw(&TriangleMarker::new((cx, cy), s + k as i32, c.filled()))?
                }
                Mark::Dot(c) => area.draw(&Circle::new((cx, cy), s, c.filled()))?,
                Mark::Cross(c) => area.draw(&Cross::new((cx, cy), s, c.stroke_width(2 * k)))?,
                Mark::Square(c) => area.draw(&Rectangle::new(
                    [(cx - s, cy - s), (cx + s, cy + s)],
                    c.filled(),
                ))?,
            }
            area.draw(&Text::new(
                text.clone(),
                (x + sym + 4 * k as i32, cy),
                style.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += sym + 4 * k as i32 + tw + gap;
        }
    }
    Ok(())
}

fn marker_legend(with_calibration: Option<&str>) -> Vec<(Mark, String)> {
    let mut v = vec![
        (Mark::Line(BASELINE, 1), "stimulus".to_string()),
        (Mark::Dashed(BASELINE), "baseline".to_string()),
        (Mark::Triangle(ONSET), "onset".to_string()),
        (Mark::Dot(PEAK), "negative peak".to_string()),
        (Mark::Cross(PHASE_END), "end of negative phase".to_string()),
    ];
    if let Some(c) = with_calibration {
        v.push((Mark::Line(INK, 2), format!("calibration {c}")));
    }
    v
}

/// Describe which responses a plot shows.
fn shown_note(total: usize, shown: &[usize]) -> String {
    if shown.len() == total {
        format!("all {total} responses")
    } else {
        format!("{} of {total} responses, evenly spaced", shown.len())
    }
}

fn train_label(t: &TrainOut) -> String {
    let rate = match t.role {
        // The label already is the rate.
        crate::vocab::TrainRole::Hfs => String::new(),
        _ => t
            .rate_hz
            .map_or(String::new(), |r| format!(" · {} Hz", trim_num(r, 1))),
    };
    format!("Train {} · {}{}", t.index, words::train_label(t), rate)
}

/// A number with at most `d` decimals and no trailing zeros.
pub fn trim_num(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

// ---------------------------------------------------------------- waterfall

struct Waterfall<'a> {
    train: &'a TrainOut,
    shown: Vec<(usize, &'a ResponseTrace)>,
    total: usize,
    /// The small version of the report's first page: a short title, no
    /// legend, fewer ticks.
    compact: bool,
}

/// Lane spacing of a waterfall, as a fraction of the largest amplitude
/// shown: traces overlap, so the gain is high enough that a decrement of a
/// few per cent is seen as the peaks' drift.
const LANE_FRACTION: f64 = 0.4;
/// How far a trace may go below its baseline (the positive phase, the
/// artifact's tail) and above its peak, as fractions of that amplitude.
const BELOW: f64 = 0.6;
const ABOVE: f64 = 0.12;

impl Waterfall<'_> {
    /// The largest amplitude among the traces shown, mV (> 0).
    fn amp(&self) -> f64 {
        self.shown
            .iter()
            .map(|(_, r)| r.peak_mv - r.baseline_mv)
            .fold(1e-3, f64::max)
    }

    /// Pixels (SVG units) per amplitude of the largest response.
    fn px_per_amp(&self) -> u32 {
        if self.compact {
            44
        } else {
            84
        }
    }

    /// The label beside trace `j` (its response index): amplitude and % of
    /// the first response.
    fn trace_label(&self, j: usize) -> String {
        match self.train.responses.get(j) {
            Some(r) => match r.amplitude_rel_pct {
                Some(p) if self.compact => format!("{} %", trim_num(p, 0)),
                Some(p) => format!("{}  {:.2} mV  {} %", j + 1, r.amplitude_mv, trim_num(p, 1)),
                None => format!("{:.2} mV", r.amplitude_mv),
            },
            None => String::new(),
        }
    }
}

impl Figure for Waterfall<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.shown.len().max(1) as f64;
        let lanes = ABOVE + BELOW + 0.1 + (n - 1.0) * LANE_FRACTION;
        let body = (lanes * f64::from(self.px_per_amp())).ceil() as u32;
        if self.compact {
            (360, 58 + body)
        } else {
            (760, 118 + body)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let (main, foot) = if self.compact {
            (root.clone(), None)
        } else {
            let (m, f) = root.split_vertically(h - 30 * k);
            (m, Some(f))
        };
        let traces: Vec<&ResponseTrace> = self.shown.iter().map(|(_, r)| *r).collect();
        let (x0, x1) = time_range(&traces);
        let amp = self.amp();
        let spacing = LANE_FRACTION * amp;
        let n = traces.len().max(1);
        let y1 = (1.0 + ABOVE) * amp;
        let y0 = -((n - 1) as f64) * spacing - (BELOW + 0.1) * amp;
        let offsets: Vec<f64> = (0..n).map(|i| -(i as f64) * spacing).collect();
        let title = if self.compact {
            train_label(self.train)
        } else {
            picked_title(self.train, "stacked responses", &self.shown, self.total)
        };
        let right = if self.compact { 52 } else { 168 };
        let mut chart = if self.compact {
            ChartBuilder::on(&main)
                .margin_top(4 * k)
                .margin_left(4 * k)
                .margin_right(right * k)
                .caption(
                    &title,
                    TextStyle::from(("sans-serif", f64::from(16 * k), FontStyle::Bold).into_font())
                        .color(&INK),
                )
                .x_label_area_size(26 * k)
                .y_label_area_size(6 * k)
                .build_cartesian_2d(x0..x1, y0..y1)?
        } else {
            cartesian(&main, k, right, &title, x0..x1, y0..y1)?
        };
        {
            let mut mesh = styled_mesh(&mut chart, k);
            mesh.disable_y_mesh()
                .x_labels(if self.compact { 5 } else { 10 })
                .y_labels(0)
                .x_label_formatter(&|v| trim_num(*v, 1));
            if self.compact {
                mesh.label_style(text_style(k, 13, INK));
            } else {
                mesh.x_desc("time after stimulus (ms)")
                    .y_desc("response (main phase up)");
            }
            mesh.draw()?;
        }
        // Stimulus.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, y0), (0.0, y1)],
            BASELINE.stroke_width(k),
        )))?;
        let fs = if self.compact { 13 } else { FS_TICK };
        for ((j, r), &o) in self.shown.iter().zip(&offsets) {
            let b = r.baseline_mv;
            // Baseline (dashed), then the curve, clipped to its band: the
            // artifact does not cover the other traces.
            chart.draw_series(DashedLineSeries::new(
                vec![(x0, o), (x1, o)],
                4 * k,
                4 * k,
                BASELINE.stroke_width(k),
            ))?;
            chart.draw_series(LineSeries::new(
                drawn_points(r)
                    .into_iter()
                    .filter(|p| p.0 >= x0)
                    .map(|(t, v)| (t, (v - b).clamp(-BELOW * amp, (1.0 + ABOVE) * amp) + o)),
                TRACE.stroke_width(k),
            ))?;
            let s = if self.compact { 3 * k } else { 4 * k };
            chart.draw_series(std::iter::once(Circle::new(
                (r.peak_ms, r.peak_mv - b + o),
                s,
                PEAK.filled(),
            )))?;
            if !self.compact {
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    (r.onset_ms, o),
                    s + k,
                    ONSET.filled(),
                )))?;
                chart.draw_series(std::iter::once(Cross::new(
                    (r.phase_end_ms, o),
                    s,
                    PHASE_END.stroke_width(2 * k),
                )))?;
            }
            // Amplitude and % beside the trace, at its peak's height.
            let (px, py) = chart.backend_coord(&(x1, r.peak_mv - b + o));
            text_at(
                &main,
                self.trace_label(*j),
                (px + 8 * k as i32, py),
                text_style(k, fs, INK).pos(Pos::new(HPos::Left, VPos::Center)),
            )?;
        }
        // Calibration bar: a round value near half the largest amplitude.
        let cal = nice_below(0.5 * amp);
        let xc = x1 - 0.02 * (x1 - x0);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(xc, amp), (xc, amp - cal)],
            INK.stroke_width(2 * k),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            mv_label(cal),
            (xc - 0.01 * (x1 - x0), amp - cal / 2.0),
            text_style(k, fs, INK).pos(Pos::new(HPos::Right, VPos::Center)),
        )))?;
        match foot {
            Some(foot) => legend(&foot, &marker_legend(Some(&mv_label(cal))), k),
            None => Ok(()),
        }
    }
}

/// At most `max` responses of a train, picked evenly, with their indices, and
/// how many it has; `None` when it has none.
fn pick_responses(
    traces: &TrainTraces,
    max: usize,
) -> Option<(Vec<(usize, &ResponseTrace)>, usize)> {
    let total = traces.responses.len();
    if total == 0 {
        return None;
    }
    let shown = pick_even(total, max)
        .into_iter()
        .map(|i| (i, &traces.responses[i]))
        .collect();
    Some((shown, total))
}

/// The title of a plot of the responses [`pick_responses`] picked: the
/// train, what the plot is, and which of the `total` responses it shows.
fn picked_title(
    train: &TrainOut,
    what: &str,
    shown: &[(usize, &ResponseTrace)],
    total: usize,
) -> String {
    let indices: Vec<usize> = shown.iter().map(|s| s.0).collect();
    format!(
        "{} — {what} ({})",
        train_label(train),
        shown_note(total, &indices)
    )
}

/// Stacked responses of one train with markers, each labelled with its
/// amplitude and % of the first. `None` when the train has no measured
/// response.
pub fn waterfall(
    train: &TrainOut,
    traces: &TrainTraces,
    png: bool,
) -> Option<Result<Plot, RenderError>> {
    let (shown, total) = pick_responses(traces, MAX_WATERFALL)?;
    let fig = Waterfall {
        train,
        shown,
        total,
        compact: false,
    };
    let caption = format!(
        "Train {}: stacked responses, first at the top, each drawn from its own baseline (main phase up), with its amplitude and % of the first; the lanes overlap so that the decrement shows.",
        train.index
    );
    Some(render(
        &format!("train{}_waterfall", train.index),
        caption,
        &fig,
        png,
    ))
}

/// The small waterfall of a train for the report's first page: at most 10
/// responses, % of the first beside each. `None` without a measured response.
pub fn waterfall_mini(
    train: &TrainOut,
    traces: &TrainTraces,
    png: bool,
) -> Option<Result<Plot, RenderError>> {
    let (shown, total) = pick_responses(traces, MAX_MINI)?;
    let fig = Waterfall {
        train,
        shown,
        total,
        compact: true,
    };
    Some(render(
        &format!("train{}_mini", train.index),
        format!("Train {}", train.index),
        &fig,
        png,
    ))
}

// ------------------------------------------------------------- superimposed

struct Superimposed<'a> {
    train: &'a TrainOut,
    shown: Vec<(usize, &'a ResponseTrace)>,
    total: usize,
}

/// Blend from `a` (t = 0) to `b` (t = 1).
fn blend(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let m = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// The chart of responses drawn on a common baseline: its mesh in ms and
/// mV, the stimulus and the baseline drawn; the chart, the first time shown
/// and the band the traces are clipped to.
#[allow(clippy::type_complexity)]
fn common_baseline_chart<'a, DB: DrawingBackend>(
    main: &'a DrawingArea<DB, Shift>,
    k: u32,
    title: &str,
    traces: &[&ResponseTrace],
) -> Result<(Chart<'a, DB>, f64, (f64, f64)), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = time_range(traces);
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in traces {
        let (l, h) = response_extent(r);
        lo = lo.min(l);
        hi = hi.max(h);
    }
    let span = (hi - lo).max(1e-3);
    let (y0, y1) = (lo - 0.08 * span, hi + 0.08 * span);
    let mut chart = cartesian(main, k, 16, title, x0..x1, y0..y1)?;
    styled_mesh(&mut chart, k)
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| trim_num(*v, 1))
        .y_label_formatter(&|v| trim_num(*v, 2))
        .x_desc("time after stimulus (ms)")
        .y_desc("mV from baseline (main phase up)")
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, y0), (0.0, y1)],
        BASELINE.stroke_width(k),
    )))?;
    chart.draw_series(DashedLineSeries::new(
        vec![(x0, 0.0), (x1, 0.0)],
        4 * k,
        4 * k,
        BASELINE.stroke_width(k),
    ))?;
    Ok((chart, x0, (lo - 0.05 * span, hi + 0.05 * span)))
}

impl Figure for Superimposed<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 380)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let (main, foot) = root.split_vertically(h - 30 * k);
        let traces: Vec<&ResponseTrace> = self.shown.iter().map(|(_, r)| *r).collect();
        let title = picked_title(self.train, "superimposed", &self.shown, self.total);
        let (mut chart, x0, (clo, chi)) = common_baseline_chart(&main, k, &title, &traces)?;
        let n = traces.len();
        let later_from = RGBColor(0x4f, 0x86, 0xc6);
        let later_to = RGBColor(0xb8, 0xcf, 0xea);
        // Later responses first, so the first response is drawn on top.
        for (i, r) in traces.iter().enumerate().skip(1).rev() {
            let t = if n > 2 {
                (i - 1) as f64 / (n - 2) as f64
            } else {
                0.0
            };
            let c = blend(later_from, later_to, t);
            let b = r.baseline_mv;
            chart.draw_series(LineSeries::new(
                drawn_points(r)
                    .into_iter()
                    .filter(|p| p.0 >= x0)
                    .map(|(t, v)| (t, (v - b).clamp(clo, chi))),
                c.stroke_width(k),
            ))?;
        }
        if let Some(r) = traces.first() {
            let b = r.baseline_mv;
            chart.draw_series(LineSeries::new(
                drawn_points(r)
                    .into_iter()
                    .filter(|p| p.0 >= x0)
                    .map(|(t, v)| (t, (v - b).clamp(clo, chi))),
                TRACE.stroke_width(2 * k),
            ))?;
        }
        // Peaks of every response: the decrement reads as a column of dots.
        for r in &traces {
            chart.draw_series(std::iter::once(Circle::new(
                (r.peak_ms, r.peak_mv - r.baseline_mv),
                3 * k,
                PEAK.filled(),
            )))?;
        }
        if let Some(r) = traces.first() {
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (r.onset_ms, 0.0),
                5 * k,
                ONSET.filled(),
            )))?;
            chart.draw_series(std::iter::once(Cross::new(
                (r.phase_end_ms, 0.0),
                4 * k,
                PHASE_END.stroke_width(2 * k),
            )))?;
        }
        let mut items = vec![(Mark::Line(TRACE, 2), "response 1".to_string())];
        if n > 1 {
            items.push((
                Mark::Line(later_from, 1),
                "later responses (lighter = later)".to_string(),
            ));
        }
        items.push((Mark::Dot(PEAK), "negative peaks".into()));
        items.push((Mark::Triangle(ONSET), "onset (response 1)".into()));
        items.push((Mark::Cross(PHASE_END), "end of negative phase".into()));
        legend(&foot, &items, k)
    }
}

/// All responses of one train on a common baseline. `None` when the train has
/// no measured response.
pub fn superimposed(
    train: &TrainOut,
    traces: &TrainTraces,
    png: bool,
) -> Option<Result<Plot, RenderError>> {
    let (shown, total) = pick_responses(traces, MAX_SUPERIMPOSED)?;
    let fig = Superimposed {
        train,
        shown,
        total,
    };
    let caption = format!(
        "Train {}: responses superimposed on a common baseline; the first is drawn dark.",
        train.index
    );
    Some(render(
        &format!("train{}_superimposed", train.index),
        caption,
        &fig,
        png,
    ))
}

// ------------------------------------------------------------------- trends

struct Trends<'a> {
    low: Vec<&'a TrainOut>,
    high: Vec<&'a TrainOut>,
    criteria: &'a Criteria,
}

/// Points `(x, y)` of a line.
type Series = Vec<(f64, f64)>;
/// A criterion line: level, label, colour.
type RefLine = (f64, String, RGBColor);

fn rel_series(t: &TrainOut) -> (Series, Series) {
    let amp = t
        .responses
        .iter()
        .filter_map(|r| r.amplitude_rel_pct.map(|v| (r.index as f64, v)))
        .collect();
    let area = t
        .responses
        .iter()
        .filter_map(|r| r.area_rel_pct.map(|v| (r.index as f64, v)))
        .collect();
    (amp, area)
}

/// One trend panel: `refs` are (level %, label, colour) reference lines.
fn trend_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    trains: &[&TrainOut],
    refs: &[RefLine],
    k: u32,
) -> DrawResult<DB> {
    let n_max = trains
        .iter()
        .map(|t| t.responses.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mut vmin: f64 = refs.iter().map(|r| r.0).fold(100.0, f64::min);
    let mut vmax: f64 = refs.iter().map(|r| r.0).fold(100.0, f64::max);
    for t in trains {
        let (a, b) = rel_series(t);
        for (_, v) in a.iter().chain(&b) {
            vmin = vmin.min(*v);
            vmax = vmax.max(*v);
        }
    }
    let pad = ((vmax - vmin) * 0.08).max(2.0);
    let (y0, y1) = (vmin - pad, vmax + pad);
    let mut chart = cartesian(
        area,
        k,
        REF_MARGIN,
        title,
        0.5..(n_max as f64 + 0.5),
        y0..y1,
    )?;
    let xl = n_max.min(12);
    styled_mesh(&mut chart, k)
        .x_labels(xl)
        .y_labels(8)
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 && *v >= 1.0 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{} %", trim_num(*v, 0)))
        .x_desc("response number")
        .y_desc("% of the train's first response")
        .draw()?;
    reference_lines(&mut chart, area, refs, (0.5, n_max as f64 + 0.5), k)?;
    for t in trains {
        let c = train_colour(t.index);
        let (amp, area_pts) = rel_series(t);
        chart.draw_series(DashedLineSeries::new(
            area_pts.clone(),
            5 * k,
            3 * k,
            c.stroke_width(k),
        ))?;
        // A dot per response helps to count a short train; on a long
        // high-rate train the dots only merge into a thicker line.
        let marked = t.responses.len() <= MAX_MARKED;
        if marked {
            chart.draw_series(
                area_pts
                    .iter()
                    .map(|&p| Rectangle::new([(p.0, p.1), (p.0, p.1)], c.stroke_width(k))),
            )?;
        }
        chart.draw_series(LineSeries::new(amp.clone(), c.stroke_width(2 * k)))?;
        if marked {
            let dot = if n_max > 40 { 2 * k } else { 3 * k };
            chart.draw_series(amp.iter().map(|&p| Circle::new(p, dot, c.filled())))?;
        }
    }
    Ok(())
}

impl Trends<'_> {
    /// The legend: one entry per train with its protocol label, then the
    /// line styles.
    fn legend_items(&self) -> Vec<(Mark, String)> {
        let mut items: Vec<(Mark, String)> = self
            .low
            .iter()
            .chain(&self.high)
            .map(|t| {
                (
                    Mark::Square(train_colour(t.index)),
                    format!("train {} · {}", t.index, words::train_label(t)),
                )
            })
            .collect();
        items.push((Mark::Line(MUTED, 2), "amplitude".into()));
        items.push((Mark::Dashed(MUTED), "area".into()));
        items
    }
}

impl Figure for Trends<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = u32::from(!self.low.is_empty()) + u32::from(!self.high.is_empty());
        (
            760,
            8 + legend_height(&self.legend_items(), 760) + 340 * panels.max(1),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let items = self.legend_items();
        let (main, foot) = root.split_vertically(h - legend_height(&items, w / k) * k);
        let c = self.criteria;
        let mut panels: Vec<(String, Vec<&TrainOut>, Vec<RefLine>)> = Vec::new();
        if !self.low.is_empty() {
            panels.push((
                "Low-rate trains: amplitude and area".into(),
                self.low.clone(),
                vec![
                    (
                        100.0 - c.decrement.equivocal_pct,
                        format!("−{} % equivocal", trim_num(c.decrement.equivocal_pct, 1)),
                        CRITERION_SOFT,
                    ),
                    (
                        100.0 - c.decrement.abnormal_pct,
                        format!("−{} % abnormal", trim_num(c.decrement.abnormal_pct, 1)),
                        CRITERION,
                    ),
                ],
            ));
        }
        if !self.high.is_empty() {
            panels.push((
                "High-rate trains: amplitude and area".into(),
                self.high.clone(),
                vec![
                    (
                        100.0 + c.increment.normal_max_pct,
                        format!(
                            "+{} % normal limit",
                            trim_num(c.increment.normal_max_pct, 1)
                        ),
                        CRITERION_SOFT,
                    ),
                    (
                        100.0 + c.increment.lems_pct,
                        format!("+{} % LEMS level", trim_num(c.increment.lems_pct, 1)),
                        CRITERION,
                    ),
                ],
            ));
        }
        let areas = main.split_evenly((panels.len().max(1), 1));
        for ((title, trains, refs), area) in panels.iter().zip(&areas) {
            trend_panel(area, title, trains, refs, k)?;
        }
        legend(&foot, &items, k)
    }
}

/// Amplitude and area of each response as % of its train's first, for every
/// train with at least two responses. `None` when there is no such train.
pub fn trends(a: &Analysis, criteria: &Criteria, png: bool) -> Option<Result<Plot, RenderError>> {
    let usable = |t: &&TrainOut| t.responses.len() >= 2;
    let low: Vec<&TrainOut> = a
        .trains
        .iter()
        .filter(usable)
        .filter(|t| t.role != TrainRole::Hfs)
        .collect();
    let high: Vec<&TrainOut> = a
        .trains
        .iter()
        .filter(usable)
        .filter(|t| t.role == TrainRole::Hfs)
        .collect();
    if low.is_empty() && high.is_empty() {
        return None;
    }
    let fig = Trends {
        low,
        high,
        criteria,
    };
    let caption = "Amplitude (solid) and area (dashed) of each response as % of the first response of its train, with the decrement and increment criteria.".to_string();
    Some(render("trends", caption, &fig, png))
}

// ------------------------------------------------------------ rest vs post-exercise

/// The first response of the rest train and of the first post-exercise
/// train, on one baseline: the brief-exercise test seen as a reader looks
/// at it.
struct RestVsPost<'a> {
    rest: (&'a TrainOut, &'a ResponseTrace),
    post: (&'a TrainOut, &'a ResponseTrace),
}

impl Figure for RestVsPost<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 360)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let (main, foot) = root.split_vertically(h - 34 * k);
        let traces = [self.rest.1, self.post.1];
        let change = match (self.rest.0.responses.first(), self.post.0.responses.first()) {
            (Some(a), Some(b)) if a.amplitude_mv > 0.0 => format!(
                ": amplitude {:+.0} %",
                100.0 * (b.amplitude_mv / a.amplitude_mv - 1.0)
            ),
            _ => String::new(),
        };
        let title = format!(
            "First response at rest and {}{change}",
            words::train_label(self.post.0)
        );
        let (mut chart, x0, (clo, chi)) = common_baseline_chart(&main, k, &title, &traces)?;
        let mut items = Vec::new();
        for (t, r) in [self.rest, self.post] {
            let c = train_colour(t.index);
            let b = r.baseline_mv;
            chart.draw_series(LineSeries::new(
                drawn_points(r)
                    .into_iter()
                    .filter(|p| p.0 >= x0)
                    .map(|(t, v)| (t, (v - b).clamp(clo, chi))),
                c.stroke_width(2 * k),
            ))?;
            chart.draw_series(std::iter::once(Circle::new(
                (r.peak_ms, r.peak_mv - b),
                3 * k,
                c.filled(),
            )))?;
            let amp = t
                .responses
                .first()
                .map_or(String::new(), |x| format!(", {:.2} mV", x.amplitude_mv));
            items.push((
                Mark::Line(c, 2),
                format!("train {} · {}{amp}", t.index, words::train_label(t)),
            ));
        }
        legend(&foot, &items, k)
    }
}

/// The rest train's first response against the first post-exercise
/// train's. `None` without both, or without their traces.
pub fn rest_vs_post_exercise(
    a: &Analysis,
    traces: &[TrainTraces],
    png: bool,
) -> Option<Result<Plot, RenderError>> {
    let rest = a.reference_train()?;
    let post = a
        .trains
        .iter()
        .find(|t| t.role == TrainRole::PostExercise && !t.responses.is_empty())?;
    let first = |t: &TrainOut| {
        traces
            .iter()
            .find(|x| x.index == t.index)
            .and_then(|x| x.responses.first())
    };
    let fig = RestVsPost {
        rest: (rest, first(rest)?),
        post: (post, first(post)?),
    };
    Some(render(
        "rest_vs_post_exercise",
        format!(
            "The first response of train {} (rest) and of train {} ({}), each from its own baseline: facilitation shows as the second standing above the first.",
            rest.index,
            post.index,
            words::train_label(post)
        ),
        &fig,
        png,
    ))
}

// ------------------------------------------------------------ post-exercise

/// One bar group of the post-exercise comparison.
struct Group {
    /// Under the bar: `T1`, `T2`, … (short, so ten groups never collide).
    label: String,
    /// In the legend: `T2 post-ex 2 s`.
    name: String,
    colour: RGBColor,
    first_amp_pct: Option<f64>,
    first_area_pct: Option<f64>,
    decrement: Option<f64>,
}

struct PostExercise<'a> {
    groups: Vec<Group>,
    criteria: &'a Criteria,
}

/// The solid and the light bar of a group, when there is a value.
type BarPair = (Option<f64>, Option<f64>);

/// What one bar panel shows.
struct BarPanel<'a> {
    title: &'a str,
    y_desc: &'a str,
    /// The solid and the light bar of a group.
    values: fn(&Group) -> BarPair,
    /// Decimals of the value labels.
    decimals: usize,
    refs: Vec<RefLine>,
}

/// Bars in one panel: each group has up to two bars (solid, light).
fn bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarPanel<'_>,
    groups: &[Group],
    k: u32,
) -> DrawResult<DB> {
    let BarPanel {
        title,
        y_desc,
        values,
        decimals,
        ref refs,
    } = *panel;
    let n = groups.len().max(1);
    let mut vmax: f64 = refs.iter().map(|r| r.0).fold(0.0, f64::max);
    for g in groups {
        let (a, b) = values(g);
        vmax = vmax.max(a.unwrap_or(0.0)).max(b.unwrap_or(0.0));
    }
    let mut vmin: f64 = 0.0;
    for g in groups {
        let (a, b) = values(g);
        vmin = vmin.min(a.unwrap_or(0.0)).min(b.unwrap_or(0.0));
    }
    let y1 = vmax * 1.12 + 1.0;
    let y0 = if vmin < 0.0 { vmin * 1.15 - 1.0 } else { 0.0 };
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let mut chart = cartesian(area, k, REF_MARGIN, title, -0.6..(n as f64 - 0.4), y0..y1)?;
    styled_mesh(&mut chart, k)
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(7)
        .y_label_formatter(&|v| format!("{} %", trim_num(*v, 0)))
        .y_desc(y_desc)
        .draw()?;
    // Group names under the axis (the x axis is categorical), every other
    // one a line lower when they would touch.
    let slot_px = f64::from(chart.backend_coord(&(1.0, y0)).0 - chart.backend_coord(&(0.0, y0)).0);
    let widest_tick = labels
        .iter()
        .map(|l| 0.6 * f64::from(FS_TICK * k) * l.chars().count() as f64)
        .fold(0.0, f64::max);
    let stagger_ticks = widest_tick + 4.0 * f64::from(k) > 0.95 * slot_px;
    for (i, l) in labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, y0));
        let drop = if stagger_ticks && i % 2 == 1 {
            (FS_TICK * k) as i32 + 2 * k as i32
        } else {
            0
        };
        text_at(
            area,
            l.clone(),
            (px, py + 8 * k as i32 + drop),
            text_style(k, FS_TICK, INK).pos(Pos::new(HPos::Center, VPos::Top)),
        )?;
    }
    // Value labels: both of a pair when they fit side by side, else the
    // amplitude's alone over the pair; staggered when even that does not
    // fit the group's width (ten groups in a half-width panel).
    let slot = f64::from(chart.backend_coord(&(1.0, y0)).0 - chart.backend_coord(&(0.0, y0)).0);
    let text_w = |t: &str| 0.6 * f64::from(FS_NOTE * k) * t.chars().count() as f64;
    let fmt = |v: f64| format!("{v:.decimals$}");
    let widest = groups
        .iter()
        .flat_map(|g| {
            let (a, b) = values(g);
            [a, b]
        })
        .flatten()
        .map(|v| text_w(&fmt(v)))
        .fold(0.0, f64::max);
    let pairs_fit = 2.0 * widest + 4.0 * f64::from(k) <= 0.68 * slot;
    let stagger = widest + 4.0 * f64::from(k) > 0.95 * slot;
    let mut value_labels: Vec<(usize, f64, f64, f64)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let x = i as f64;
        let (a, b) = values(g);
        let light = blend(g.colour, WHITE, 0.55);
        if let (Some(v), None) = (a, b) {
            // A single value: one bar across the group.
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, v)],
                g.colour.filled(),
            )))?;
            value_labels.push((i, x, v, v));
            continue;
        }
        if let Some(v) = a {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.34, 0.0), (x - 0.01, v)],
                g.colour.filled(),
            )))?;
        }
        if let Some(v) = b {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.01, 0.0), (x + 0.34, v)],
                light.filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.01, 0.0), (x + 0.34, v)],
                g.colour.stroke_width(k),
            )))?;
        }
        match (a, b) {
            (Some(va), Some(vb)) if pairs_fit => {
                value_labels.push((i, x - 0.175, va, va));
                value_labels.push((i, x + 0.175, vb, vb));
            }
            // The amplitude's figure over the taller bar of the pair.
            (Some(va), Some(vb)) => value_labels.push((i, x, va.max(vb), va)),
            (Some(va), None) => value_labels.push((i, x - 0.175, va, va)),
            (None, Some(vb)) => value_labels.push((i, x + 0.175, vb, vb)),
            _ => {}
        }
        if a.is_none() && b.is_none() {
            chart.draw_series(std::iter::once(Text::new(
                "not measured".to_string(),
                (x, y0 + 0.04 * (y1 - y0)),
                text_style(k, FS_NOTE, MUTED).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
    }
    let label = |i: usize, x: f64, y: f64, v: f64| -> DrawResult<DB> {
        let (px, py) = chart.backend_coord(&(x, y));
        let lift = if stagger && i % 2 == 1 {
            (f64::from(FS_NOTE * k) * 1.2) as i32
        } else {
            0
        };
        text_at(
            area,
            fmt(v),
            (px, py - 2 * k as i32 - lift),
            text_style(k, FS_NOTE, INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    };
    for (i, x, y, v) in value_labels {
        label(i, x, y, v)?;
    }
    reference_lines(&mut chart, area, refs, (-0.6, n as f64 - 0.4), k)
}

impl PostExercise<'_> {
    /// The legend: each train's label by its colour, then amplitude and area.
    fn legend_items(&self) -> Vec<(Mark, String)> {
        let mut items: Vec<(Mark, String)> = self
            .groups
            .iter()
            .map(|g| (Mark::Square(g.colour), g.name.clone()))
            .collect();
        items.push((Mark::Square(MUTED), "amplitude (dark)".into()));
        items.push((
            Mark::Square(blend(MUTED, WHITE, 0.55)),
            "area (light)".into(),
        ));
        items
    }
}

impl Figure for PostExercise<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 386 + legend_height(&self.legend_items(), 760))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, h) = root.dim_in_pixel();
        let items = self.legend_items();
        let (main, foot) = root.split_vertically(h - legend_height(&items, w / k) * k);
        // Without any decrement (single responses) the right panel would be empty.
        let any_decrement = self.groups.iter().any(|g| g.decrement.is_some());
        let split = if any_decrement {
            w * 11 / 20
        } else {
            w * 7 / 10
        };
        let (left, right) = main.split_horizontally(split);
        let c = self.criteria;
        let first = BarPanel {
            title: "First response vs rest",
            y_desc: "% of the reference rest train",
            values: |g| (g.first_amp_pct, g.first_area_pct),
            decimals: 0,
            refs: vec![
                (100.0, "rest".into(), MUTED),
                (
                    100.0 + c.increment.normal_max_pct,
                    format!(
                        "+{} % normal limit",
                        trim_num(c.increment.normal_max_pct, 1)
                    ),
                    CRITERION_SOFT,
                ),
                (
                    100.0 + c.increment.lems_pct,
                    format!("+{} % LEMS level", trim_num(c.increment.lems_pct, 1)),
                    CRITERION,
                ),
            ],
        };
        bar_panel(&left, &first, &self.groups, k)?;
        let decrement = BarPanel {
            title: "Decrement per train",
            y_desc: "decrement (larger of 4th/5th), %",
            values: |g| (g.decrement, None),
            decimals: 1,
            refs: vec![(
                c.decrement.abnormal_pct,
                format!("{} % abnormal", trim_num(c.decrement.abnormal_pct, 1)),
                CRITERION,
            )],
        };
        if any_decrement {
            bar_panel(&right, &decrement, &self.groups, k)?;
        }
        legend(&foot, &items, k)
    }
}

/// Rest against after-exercise trains. `None` without a post-exercise train
/// and a reference rest train.
pub fn post_exercise(
    a: &Analysis,
    criteria: &Criteria,
    png: bool,
) -> Option<Result<Plot, RenderError>> {
    let reference = a.reference_train()?;
    if !a.trains.iter().any(|t| t.role == TrainRole::PostExercise) {
        return None;
    }
    reference.responses.first()?;
    let groups: Vec<Group> = a
        .trains
        .iter()
        .filter(|t| t.role != TrainRole::Hfs && !t.responses.is_empty())
        .map(|t| {
            let (first_amp_pct, first_area_pct) = a.first_vs_reference_pct(t);
            Group {
                label: format!("T{}", t.index),
                name: format!("T{} {}", t.index, words::train_label(t)),
                colour: train_colour(t.index),
                first_amp_pct,
                first_area_pct,
                decrement: t.decrement(),
            }
        })
        .collect();
    let fig = PostExercise { groups, criteria };
    let caption = format!(
        "Left: first response of each low-rate train as % of the first response of the reference rest train (train {}), amplitude and area. Right: each train's decrement. Dashed lines: criteria.",
        reference.index
    );
    Some(render("post_exercise", caption, &fig, png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_picks_keep_ends() {
        assert_eq!(pick_even(5, 20), vec![0, 1, 2, 3, 4]);
        let p = pick_even(200, 20);
        assert_eq!(p.len(), 20);
        assert_eq!(p[0], 0);
        assert_eq!(p[19], 199);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn calibration_values_are_round() {
        assert_eq!(nice_below(4.3), 2.0);
        assert_eq!(nice_below(7.0), 5.0);
        assert_eq!(nice_below(0.3), 0.2);
        assert_eq!(mv_label(0.05), "50 µV");
        assert_eq!(trim_num(3.0, 1), "3");
        assert_eq!(trim_num(2.25, 1), "2.2");
    }
}

/// One point of a simulator parameter sweep: the value and the noiseless
/// figures at it (3 Hz decrement, post-exercise and high-rate increment, %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// Parameter value.
    pub value: f64,
    /// 3 Hz decrement, 1st vs 4th, %.
    pub decrement_pct: f64,
    /// Post-exercise increment, %.
    pub post_exercise_increment_pct: f64,
    /// High-rate increment, %.
    pub hfs_increment_pct: f64,
}

/// Which figure of a sweep point a series draws.
type SweepField = fn(&SweepPoint) -> f64;

struct Sweep<'a> {
    param: &'a str,
    points: &'a [SweepPoint],
    criteria: &'a Criteria,
}

impl Figure for Sweep<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 420)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: u32) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (_, h) = root.dim_in_pixel();
        let (main, foot) = root.split_vertically(h - 40 * k);
        let xs = self.points.iter().map(|p| p.value);
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let (x0, x1) = if x1 > x0 {
            (x0, x1)
        } else {
            (x0 - 0.5, x0 + 0.5)
        };
        let c = self.criteria;
        let refs: Vec<RefLine> = vec![
            (
                c.decrement.abnormal_pct,
                format!("{} % abnormal decr.", trim_num(c.decrement.abnormal_pct, 1)),
                CRITERION_SOFT,
            ),
            (
                c.increment.lems_pct,
                format!("{} % LEMS-level incr.", trim_num(c.increment.lems_pct, 1)),
                CRITERION,
            ),
        ];
        let vals = self.points.iter().flat_map(|p| {
            [
                p.decrement_pct,
                p.post_exercise_increment_pct,
                p.hfs_increment_pct,
            ]
        });
        let (vmin, vmax) = vals
            .chain(refs.iter().map(|r| r.0))
            .fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let pad = ((vmax - vmin) * 0.08).max(2.0);
        let title = format!("Decrement and increment against {}", self.param);
        let mut chart = cartesian(
            &main,
            k,
            REF_MARGIN,
            &title,
            x0..x1,
            (vmin - pad)..(vmax + pad),
        )?;
        let param = self.param.to_string();
        styled_mesh(&mut chart, k)
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| trim_num(*v, 2))
            .y_label_formatter(&|v| format!("{} %", trim_num(*v, 0)))
            .x_desc(param.as_str())
            .y_desc("% (noiseless truth)")
            .draw()?;
        reference_lines(&mut chart, &main, &refs, (x0, x1), k)?;
        let series: [(RGBColor, SweepField); 3] = [
            (TRAIN_COLOURS[0], |p| p.decrement_pct),
            (TRAIN_COLOURS[1], |p| p.post_exercise_increment_pct),
            (TRAIN_COLOURS[2], |p| p.hfs_increment_pct),
        ];
        for (colour, get) in series {
            let pts: Vec<(f64, f64)> = self.points.iter().map(|p| (p.value, get(p))).collect();
            chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2 * k)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3 * k, colour.filled())))?;
        }
        let items = vec![
            (
                Mark::Line(TRAIN_COLOURS[0], 2),
                "3 Hz decrement".to_string(),
            ),
            (
                Mark::Line(TRAIN_COLOURS[1], 2),
                "post-exercise increment".to_string(),
            ),
            (
                Mark::Line(TRAIN_COLOURS[2], 2),
                "50 Hz increment".to_string(),
            ),
        ];
        legend(&foot, &items, k)
    }
}

/// The curve a teacher would show: decrement and increments against a swept
/// simulator parameter.
pub fn sweep(
    param: &str,
    points: &[SweepPoint],
    criteria: &Criteria,
    png: bool,
) -> Result<Plot, RenderError> {
    let fig = Sweep {
        param,
        points,
        criteria,
    };
    render(
        "sweep",
        format!("Decrement and increment against {param} (simulated, noiseless)"),
        &fig,
        png,
    )
}
