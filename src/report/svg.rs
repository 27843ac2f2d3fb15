//! A compact SVG backend for `plotters`: the same drawing as plotters' own
//! SVG backend in a fraction of the bytes, so a report with a dozen inline
//! figures stays small.
//!
//! Overview of what makes it small (its unit tests check each point):
//! - consecutive strokes of one style (a dashed line is hundreds of short
//!   segments; a waveform is one long one) become one `<path>` whose data
//!   uses relative moves and `h`/`v`/`l` commands, with the command letter
//!   omitted when it repeats;
//! - long strokes are simplified in one pass (see `simplify`) within
//!   [`TOLERANCE`] drawing units; with the figures drawn in half pixels
//!   (the `scale` of [`CompactSvg::new`]) that is under a pixel, the width
//!   of the thinnest line, while the 1-unit staircase of rounded
//!   coordinates goes;
//! - defaults are not written (`opacity="1"`, `stroke-width="1"`, black
//!   fill), the font family is named once on the root element, colours are
//!   written in their short form when they have one, font sizes with two
//!   decimals.
//!
//! Strokes drawn with transparency are never merged, since one path blends
//! its overlapping parts once where separate elements blend twice. The
//! output depends only on the drawing calls, so the same figure gives the
//! same bytes.

use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle, FontTransform,
};
use std::fmt::Write as _;

/// Largest distance, in drawing units, a simplified stroke strays from the
/// drawn one (0.75 px for figures drawn at scale 2).
pub const TOLERANCE: f64 = 1.5;

/// The font family named on the root element (the one the figures use).
const ROOT_FAMILY: &str = "sans-serif";

/// The error of [`CompactSvg`]: it draws into memory and cannot fail.
#[derive(Debug, thiserror::Error)]
#[error("the SVG backend cannot fail")]
pub struct Never;

/// What a group of merged shapes is painted with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Paint {
    /// An outline of this width.
    Stroke(u32),
    /// A fill.
    Fill,
}

/// Shapes waiting to be written as one `<path>`.
#[derive(Debug)]
struct Group {
    paint: Paint,
    rgb: (u8, u8, u8),
    alpha: f64,
    data: PathData,
    /// Bounding boxes of the fills so far: overlapping fills are not
    /// merged, as opposite windings would cut holes where they overlap.
    boxes: Vec<[i32; 4]>,
}

/// The bounding box of `points`: x0, y0, x1, y1.
fn bbox(points: &[BackendCoord]) -> [i32; 4] {
    points.iter().fold(
        [i32::MAX, i32::MAX, i32::MIN, i32::MIN],
        |[x0, y0, x1, y1], &(x, y)| [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
    )
}

fn overlap(a: [i32; 4], b: [i32; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// A plotters backend writing compact SVG into a `String`.
#[derive(Debug)]
pub struct CompactSvg<'a> {
    out: &'a mut String,
    size: (u32, u32),
    group: Option<Group>,
    done: bool,
}

impl<'a> CompactSvg<'a> {
    /// A `width` × `height` pixel drawing written into `out` (cleared),
    /// drawn in units of 1/`scale` pixel: the figure is drawn at `scale`
    /// times its size (as for a PNG at that scale) and shown at its size,
    /// so that coordinates, rounded to whole units, are finer than pixels.
    pub fn new(out: &'a mut String, size: (u32, u32), scale: u32) -> Self {
        out.clear();
        let scale = scale.max(1);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {vw} {vh}\" font-family=\"{ROOT_FAMILY}\">",
            w = size.0,
            h = size.1,
            vw = size.0 * scale,
            vh = size.1 * scale
        );
        CompactSvg {
            out,
            size: (size.0 * scale, size.1 * scale),
            group: None,
            done: false,
        }
    }

    /// Start or continue the group for `paint` in `colour`; returns its
    /// path. A fill passes its bounding box, `area`.
    fn group(
        &mut self,
        paint: Paint,
        colour: BackendColor,
        area: Option<[i32; 4]>,
    ) -> &mut PathData {
        let same = self.group.as_ref().is_some_and(|g| {
            g.paint == paint
                && g.rgb == colour.rgb
                && g.alpha == colour.alpha
                && g.alpha >= 1.0
                && area.is_none_or(|a| !g.boxes.iter().any(|&b| overlap(a, b)))
        });
        if !same {
            self.flush();
        }
        let g = self.group.get_or_insert_with(|| Group {
            paint,
            rgb: colour.rgb,
            alpha: colour.alpha,
            data: PathData::default(),
            boxes: Vec::new(),
        });
        g.boxes.extend(area);
        &mut g.data
    }

    /// Write the pending group, if any.
    fn flush(&mut self) {
        let Some(g) = self.group.take() else {
            return;
        };
        if g.data.d.is_empty() {
            return;
        }
        let colour = hex(g.rgb);
        match g.paint {
            Paint::Stroke(w) => {
                let _ = write!(self.out, "<path fill=\"none\" stroke=\"{colour}\"");
                if w != 1 {
                    let _ = write!(self.out, " stroke-width=\"{w}\"");
                }
                opacity(self.out, "stroke-opacity", g.alpha);
            }
            Paint::Fill => {
                let _ = write!(self.out, "<path fill=\"{colour}\"");
                opacity(self.out, "fill-opacity", g.alpha);
            }
        }
        let _ = writeln!(self.out, " d=\"{}\"/>", g.data.d);
    }

    fn stroke(&mut self, points: &[BackendCoord], colour: BackendColor, width: u32) {
        if colour.alpha <= 0.0 || points.is_empty() {
            return;
        }
        let kept = simplify(points, TOLERANCE);
        let d = self.group(Paint::Stroke(width), colour, None);
        d.move_to(kept[0]);
        if kept.len() == 1 {
            // A single point still shows as a dot with round caps elsewhere;
            // keep it a zero-length segment as plotters does.
            d.line_to_forced(kept[0]);
        }
        for &p in &kept[1..] {
            d.line_to(p);
        }
    }

    fn fill(&mut self, points: &[BackendCoord], colour: BackendColor) {
        if colour.alpha <= 0.0 || points.len() < 3 {
            return;
        }
        let d = self.group(Paint::Fill, colour, Some(bbox(points)));
        d.move_to(points[0]);
        for &p in &points[1..] {
            d.line_to(p);
        }
        d.close();
    }
}

/// `#rgb` when each channel repeats its digit, else `#rrggbb` (lowercase).
fn hex((r, g, b): (u8, u8, u8)) -> String {
    let short = |c: u8| c >> 4 == c & 0xf;
    if short(r) && short(g) && short(b) {
        format!("#{:x}{:x}{:x}", r & 0xf, g & 0xf, b & 0xf)
    } else {
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Append ` name="alpha"` unless it is the default, 1.
fn opacity(out: &mut String, name: &str, alpha: f64) {
    if alpha < 1.0 {
        let _ = write!(out, " {name}=\"{}\"", num2(alpha.max(0.0)));
    }
}

/// A number with at most two decimals and no trailing zeros.
fn num2(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Escape text content.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            _ => o.push(c),
        }
    }
    o
}

/// SVG path data built with relative commands.
#[derive(Debug, Default)]
struct PathData {
    d: String,
    pen: (i32, i32),
    start: (i32, i32),
    last: Option<char>,
}

impl PathData {
    /// Append one number, with a separator only where the next would run
    /// into the previous one.
    fn num(&mut self, v: i32) {
        if v >= 0 && self.d.ends_with(|c: char| c.is_ascii_digit()) {
            self.d.push(' ');
        }
        let _ = write!(self.d, "{v}");
    }

    /// Append command `c` unless it repeats the last one.
    fn cmd(&mut self, c: char) {
        if self.last != Some(c) {
            self.d.push(c);
            self.last = Some(c);
        }
    }

    fn move_to(&mut self, p: BackendCoord) {
        if self.d.is_empty() {
            self.d.push('M');
            self.num(p.0);
            self.num(p.1);
        } else {
            self.d.push('m');
            self.num(p.0 - self.pen.0);
            self.num(p.1 - self.pen.1);
        }
        // After a move, repeated pairs would mean line-to: force a letter.
        self.last = Some('m');
        self.pen = p;
        self.start = p;
    }

    fn line_to(&mut self, p: BackendCoord) {
        if p != self.pen {
            self.line_to_forced(p);
        }
    }

    fn line_to_forced(&mut self, p: BackendCoord) {
        let (dx, dy) = (p.0 - self.pen.0, p.1 - self.pen.1);
        if dy == 0 {
            self.cmd('h');
            self.num(dx);
        } else if dx == 0 {
            self.cmd('v');
            self.num(dy);
        } else {
            self.cmd('l');
            self.num(dx);
            self.num(dy);
        }
        self.pen = p;
    }

    /// A full circle as two half arcs, ending where it started.
    fn circle(&mut self, (x, y): BackendCoord, r: i32) {
        self.move_to((x - r, y));
        let _ = write!(self.d, "a{r} {r} 0 1 0 {} 0 {r} {r} 0 1 0", 2 * r);
        self.num(-2 * r);
        self.d.push_str(" 0");
        self.last = Some('a');
    }

    fn close(&mut self) {
        self.d.push('z');
        self.last = Some('z');
        self.pen = self.start;
    }
}

/// The points of `path` to keep so that no dropped point lies farther than
/// `tol` pixels from the kept polyline; the ends are always kept.
///
/// One pass (sleeve fitting, as Zhao and Saalfeld's): from the last kept
/// point, the directions a segment may take so as to pass within `tol` of
/// every point since form a wedge that each new point narrows; a point
/// outside the wedge, or one that turns back towards the kept point, ends
/// the segment at the point before it. Linear in the points, where
/// Ramer–Douglas–Peucker is quadratic on a long, nearly straight trace.
fn simplify(path: &[BackendCoord], tol: f64) -> Vec<BackendCoord> {
    if path.len() < 3 {
        return path.to_vec();
    }
    let tol2 = tol * tol;
    let mut kept = vec![path[0]];
    let mut anchor = path[0];
    // The wedge as its clockwise and counter-clockwise bounds.
    let mut wedge: Option<((f64, f64), (f64, f64))> = None;
    let mut last = anchor;
    let mut reach2 = 0.0;
    let mut i = 1;
    while i < path.len() {
        let p = path[i];
        let v = (f64::from(p.0 - anchor.0), f64::from(p.1 - anchor.1));
        let d2 = v.0 * v.0 + v.1 * v.1;
        if d2 <= tol2 && wedge.is_none() {
            // Not yet away from the kept point: within reach of it,
            // whatever the direction. (Once away, coming back near it is
            // turning back.)
            i += 1;
            continue;
        }
        let inside =
            d2 >= reach2 && wedge.is_none_or(|(r, l)| cross(r, v) >= 0.0 && cross(v, l) >= 0.0);
        if inside {
            let (sin, cos) = (tol / d2.sqrt(), (1.0 - tol2 / d2).sqrt());
            let vl = (v.0 * cos - v.1 * sin, v.0 * sin + v.1 * cos);
            let vr = (v.0 * cos + v.1 * sin, -v.0 * sin + v.1 * cos);
            wedge = Some(match wedge {
                None => (vr, vl),
                Some((r, l)) => (
                    if cross(r, vr) > 0.0 { vr } else { r },
                    if cross(l, vl) < 0.0 { vl } else { l },
                ),
            });
            last = p;
            reach2 = d2;
            i += 1;
            continue;
        }
        // End the segment at the last point inside; `p` is looked at again
        // from there. A segment that has not moved ends at `p` itself.
        let end = if last == anchor {
            i += 1;
            p
        } else {
            last
        };
        kept.push(end);
        anchor = end;
        last = end;
        wedge = None;
        reach2 = 0.0;
    }
    let tail = path[path.len() - 1];
    if kept.last() != Some(&tail) {
        kept.push(tail);
    }
    kept
}

/// The z component of `a` × `b`: positive when `b` turns counter-clockwise
/// from `a`.
fn cross(a: (f64, f64), b: (f64, f64)) -> f64 {
    a.0 * b.1 - a.1 * b.0
}

/// Squared distance from `p` to the segment `a`–`b`.
#[cfg(test)]
fn distance2(p: BackendCoord, a: BackendCoord, b: BackendCoord) -> f64 {
    let (px, py) = (f64::from(p.0), f64::from(p.1));
    let (ax, ay) = (f64::from(a.0), f64::from(a.1));
    let (bx, by) = (f64::from(b.0), f64::from(b.1));
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (px - ax - t * dx, py - ay - t * dy);
    ex * ex + ey * ey
}

impl DrawingBackend for CompactSvg<'_> {
    type ErrorType = Never;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Never>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Never>> {
        if !self.done {
            self.flush();
            self.out.push_str("</svg>\n");
            self.done = true;
        }
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        colour: BackendColor,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let (x, y) = point;
        self.fill(&[(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)], colour);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        self.stroke(&[from, to], style.color(), style.stroke_width());
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let corners = [ul, (br.0, ul.1), br, (ul.0, br.1)];
        if fill {
            self.fill(&corners, style.color());
        } else {
            let ring = [corners[0], corners[1], corners[2], corners[3], corners[0]];
            self.stroke(&ring, style.color(), style.stroke_width());
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        self.stroke(&points, style.color(), style.stroke_width());
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        self.fill(&points, style.color());
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let c = style.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        if fill {
            // Two half arcs in a merged fill: a third of a `<circle>`'s bytes.
            let r = i32::try_from(radius).unwrap_or(i32::MAX / 4);
            let (x, y) = center;
            let area = [x - r, y - r, x + r, y + r];
            self.group(Paint::Fill, c, Some(area)).circle(center, r);
            return Ok(());
        }
        self.flush();
        let colour = hex(c.rgb);
        let _ = write!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{radius}\"",
            center.0, center.1
        );
        let _ = write!(self.out, " fill=\"none\" stroke=\"{colour}\"");
        if style.stroke_width() != 1 {
            let _ = write!(self.out, " stroke-width=\"{}\"", style.stroke_width());
        }
        opacity(self.out, "stroke-opacity", c.alpha);
        self.out.push_str("/>\n");
        Ok(())
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Never>> {
        let c = style.color();
        if c.alpha <= 0.0 {
            return Ok(());
        }
        self.flush();
        let (x, y) = pos;
        let _ = write!(self.out, "<text x=\"{x}\" y=\"{y}\"");
        // The same baseline shifts and anchors as plotters' SVG backend.
        match style.anchor().v_pos {
            VPos::Top => self.out.push_str(" dy=\".76em\""),
            VPos::Center => self.out.push_str(" dy=\".5ex\""),
            VPos::Bottom => self.out.push_str(" dy=\"-.5ex\""),
        }
        match style.anchor().h_pos {
            HPos::Left => {}
            HPos::Center => self.out.push_str(" text-anchor=\"middle\""),
            HPos::Right => self.out.push_str(" text-anchor=\"end\""),
        }
        let family = style.family();
        if family.as_str() != ROOT_FAMILY {
            let _ = write!(self.out, " font-family=\"{}\"", escape(family.as_str()));
        }
        // plotters sizes fonts by line height; SVG by em (its factor 1.24).
        let _ = write!(self.out, " font-size=\"{}\"", num2(style.size() / 1.24));
        if c.rgb != (0, 0, 0) {
            let _ = write!(self.out, " fill=\"{}\"", hex(c.rgb));
        }
        opacity(self.out, "fill-opacity", c.alpha);
        match style.style() {
            FontStyle::Normal => {}
            FontStyle::Bold => self.out.push_str(" font-weight=\"bold\""),
            other => {
                let _ = write!(self.out, " font-style=\"{}\"", other.as_str());
            }
        }
        let angle = match style.transform() {
            FontTransform::Rotate90 => Some(90),
            FontTransform::Rotate180 => Some(180),
            FontTransform::Rotate270 => Some(270),
            FontTransform::None => None,
        };
        if let Some(a) = angle {
            let _ = write!(self.out, " transform=\"rotate({a} {x} {y})\"");
        }
        let _ = writeln!(self.out, ">{}</text>", escape(text));
        Ok(())
    }
}

impl Drop for CompactSvg<'_> {
    fn drop(&mut self) {
        let _ = self.present();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    fn draw(f: impl FnOnce(&DrawingArea<CompactSvg<'_>, plotters::coord::Shift>)) -> String {
        let mut s = String::new();
        {
            let root = CompactSvg::new(&mut s, (100, 50), 1).into_drawing_area();
            f(&root);
            root.present().unwrap();
        }
        s
    }

    #[test]
    fn path_data_is_relative_and_skips_repeated_letters() {
        let mut d = PathData::default();
        d.move_to((10, 20));
        d.line_to((14, 20));
        d.line_to((18, 20));
        d.line_to((18, 25));
        d.line_to((15, 22));
        d.line_to((16, 21));
        d.move_to((30, 20));
        d.line_to((30, 20));
        assert_eq!(d.d, "M10 20h4 4v5l-3-3 1-1m14-1");
    }

    #[test]
    fn closed_fill_returns_the_pen_to_its_start() {
        let mut d = PathData::default();
        d.move_to((0, 0));
        d.line_to((5, 0));
        d.line_to((5, 5));
        d.close();
        d.move_to((10, 0));
        assert_eq!(d.d, "M0 0h5v5zm10 0");
    }

    #[test]
    fn simplification_keeps_ends_and_corners_within_tolerance() {
        let line: Vec<BackendCoord> = (0..50).map(|x| (x, 10)).collect();
        assert_eq!(simplify(&line, TOLERANCE), vec![(0, 10), (49, 10)]);
        let corner = [(0, 0), (5, 0), (10, 0), (10, 5), (10, 10)];
        assert_eq!(
            simplify(&corner, TOLERANCE),
            vec![(0, 0), (10, 0), (10, 10)]
        );
        // Every dropped point lies within the tolerance of the kept line.
        let wave: Vec<BackendCoord> = (0..200)
            .map(|x| (x, (20.0 * (f64::from(x) / 9.0).sin()).round() as i32))
            .collect();
        let kept = simplify(&wave, TOLERANCE);
        assert!(kept.len() < wave.len());
        assert!(worst(&wave, &kept) <= TOLERANCE + 1e-9);
    }

    /// The largest distance from a point of `path` to the polyline `kept`.
    fn worst(path: &[BackendCoord], kept: &[BackendCoord]) -> f64 {
        // A path that never leaves its start's reach is kept as one point.
        let kept: Vec<BackendCoord> = if kept.len() == 1 {
            vec![kept[0], kept[0]]
        } else {
            kept.to_vec()
        };
        path.iter()
            .map(|&p| {
                kept.windows(2)
                    .map(|w| distance2(p, w[0], w[1]).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn simplified_random_walks_stay_within_tolerance() {
        // A fixed-seed generator: the same paths every run.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |m: i32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            i32::try_from(seed % (2 * m as u64 + 1)).unwrap() - m
        };
        for case in 0..300 {
            let n = 3 + case % 200;
            let step = 1 + case % 4;
            let mut p = (0, 0);
            let mut path = vec![p];
            for k in 0..n {
                // Traces move right; some cases also wander back and forth.
                let dx = if case % 3 == 0 {
                    next(step)
                } else {
                    (k % 2) + next(1).abs()
                };
                p = (p.0 + dx, p.1 + next(step));
                path.push(p);
            }
            let kept = simplify(&path, TOLERANCE);
            assert_eq!(kept.first(), path.first());
            assert_eq!(kept.last(), path.last());
            let w = worst(&path, &kept);
            assert!(w <= TOLERANCE + 1e-9, "case {case}: {w} px");
        }
    }

    #[test]
    fn distance_to_a_degenerate_segment_is_to_its_point() {
        assert!((distance2((3, 4), (0, 0), (0, 0)) - 25.0).abs() < 1e-12);
        assert!((distance2((5, 3), (0, 0), (10, 0)) - 9.0).abs() < 1e-12);
        assert!((distance2((-3, 4), (0, 0), (10, 0)) - 25.0).abs() < 1e-12);
    }

    #[test]
    fn colours_and_numbers_are_short() {
        assert_eq!(hex((0xff, 0xff, 0xff)), "#fff");
        assert_eq!(hex((0x1d, 0x3f, 0x6e)), "#1d3f6e");
        assert_eq!(num2(13.709677), "13.71");
        assert_eq!(num2(11.0), "11");
        assert_eq!(num2(0.5), "0.5");
        assert_eq!(escape("a<b & c>d"), "a&lt;b &amp; c&gt;d");
    }

    #[test]
    fn strokes_of_one_style_merge_and_others_do_not() {
        let s = draw(|root| {
            let style = ShapeStyle::from(&RED).stroke_width(1);
            for x in [0, 10, 20] {
                root.draw(&PathElement::new(vec![(x, 5), (x + 4, 5)], style))
                    .unwrap();
            }
            root.draw(&PathElement::new(
                vec![(0, 9), (9, 9)],
                ShapeStyle::from(&BLUE).stroke_width(2),
            ))
            .unwrap();
            let faint = ShapeStyle::from(&RED.mix(0.5)).stroke_width(1);
            root.draw(&PathElement::new(vec![(0, 1), (9, 1)], faint))
                .unwrap();
            root.draw(&PathElement::new(vec![(0, 2), (9, 2)], faint))
                .unwrap();
        });
        assert!(
            s.contains("<path fill=\"none\" stroke=\"#f00\" d=\"M0 5h4m6 0h4m6 0h4\"/>"),
            "{s}"
        );
        assert!(
            s.contains("stroke=\"#00f\" stroke-width=\"2\" d=\"M0 9h9\""),
            "{s}"
        );
        assert_eq!(s.matches("stroke-opacity=\"0.5\"").count(), 2, "{s}");
        assert!(s.ends_with("</svg>\n"));
    }

    #[test]
    fn text_keeps_position_anchor_size_and_rotation() {
        let s = draw(|root| {
            let style = TextStyle::from(("sans-serif", 12.4).into_font())
                .color(&RGBColor(0x1a, 0x1a, 0x1a))
                .pos(plotters::style::text_anchor::Pos::new(
                    HPos::Center,
                    VPos::Top,
                ))
                .transform(FontTransform::Rotate270);
            root.draw(&Text::new("a < b", (40, 20), style)).unwrap();
        });
        assert!(
            s.contains(
                "<text x=\"40\" y=\"20\" dy=\".76em\" text-anchor=\"middle\" font-size=\"10\" \
                 fill=\"#1a1a1a\" transform=\"rotate(270 40 20)\">a &lt; b</text>"
            ),
            "{s}"
        );
    }

    #[test]
    fn filled_dots_merge_unless_they_overlap() {
        let s = draw(|root| {
            for x in [10, 20] {
                root.draw(&Circle::new((x, 10), 2, RED.filled())).unwrap();
            }
            // Overlaps the second: a new path.
            root.draw(&Circle::new((21, 10), 2, RED.filled())).unwrap();
            root.draw(&Circle::new((40, 10), 3, BLUE)).unwrap();
        });
        assert!(
            s.contains("<path fill=\"#f00\" d=\"M8 10a2 2 0 1 0 4 0 2 2 0 1 0-4 0m10 0a2 2 0 1 0 4 0 2 2 0 1 0-4 0\"/>"),
            "{s}"
        );
        assert!(s.contains("<path fill=\"#f00\" d=\"M19 10a2"), "{s}");
        assert!(
            s.contains("<circle cx=\"40\" cy=\"10\" r=\"3\" fill=\"none\" stroke=\"#00f\"/>"),
            "{s}"
        );
    }

    #[test]
    fn the_drawing_keeps_its_order() {
        // A circle drawn between two strokes of one style splits them, so
        // the second stroke still covers it.
        let s = draw(|root| {
            let st = ShapeStyle::from(&BLACK).stroke_width(1);
            root.draw(&PathElement::new(vec![(0, 0), (9, 0)], st))
                .unwrap();
            root.draw(&Circle::new((5, 5), 3, GREEN.filled())).unwrap();
            root.draw(&PathElement::new(vec![(0, 5), (9, 5)], st))
                .unwrap();
        });
        let c = s.find("<path fill=\"#0f0\"").unwrap();
        assert!(s[..c].contains("d=\"M0 0h9\""), "{s}");
        assert!(s[c..].contains("d=\"M0 5h9\""), "{s}");
    }
}
