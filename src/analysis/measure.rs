//! Pipeline steps 3–4: a window per stimulus that ends before the next one,
//! the polarity (which way the main phase points), and each response
//! measured in its window ([`response::measure`]), in parallel and collected
//! in order.

use crate::analysis::dsp::{self, segment_holding};
use crate::analysis::hum::HumModel;
use crate::analysis::response::{self, Measurement};
use crate::analysis::traces::ResponseTrace;
use crate::settings::config::AnalysisConfig;
use crate::units::{Ms, SampleRate};
use crate::vocab::{Polarity, PolarityChoice, PolaritySource};
use rayon::prelude::*;

/// A window `[a, b)` around stimulus `s`: `(a, b, s)`.
pub type Window = (usize, usize, usize);

/// Each response's measurement and whether it touched a clipping rail
/// (`None`: the window was too short), and its trace when asked for.
pub type Measured = (Option<(Measurement, bool)>, Option<ResponseTrace>);

/// The signal, the stimuli and their windows, and what a measurement needs
/// to know about the signal.
#[derive(Clone)]
pub struct Measurer<'a> {
    x: &'a [f32],
    stims: &'a [usize],
    fracs: &'a [f64],
    rate: SampleRate,
    cfg: &'a AnalysisConfig,
    hum: Option<&'a HumModel>,
    /// Clipping rails in the file's units.
    rails: Option<(f64, f64)>,
    /// A slope (mV/sample) that counts as steep regardless of the artifact.
    steep_floor: f64,
    windows: Vec<Window>,
    /// Whether each window's pre-stimulus span is free of an earlier
    /// response.
    quiet: Vec<bool>,
}

impl<'a> Measurer<'a> {
    /// The windows of `stims` (sample indices, with their sub-sample
    /// fractions `fracs`) in `segments`. `noise_slope_sd` is the signal's
    /// noise figure (the SD of its sample differences).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        x: &'a [f32],
        stims: &'a [usize],
        fracs: &'a [f64],
        segments: &[(usize, usize)],
        rate: SampleRate,
        cfg: &'a AnalysisConfig,
        hum: Option<&'a HumModel>,
        rails: Option<(f64, f64)>,
        noise_slope_sd: f64,
    ) -> Self {
        let windows = stims
            .iter()
            .enumerate()
            .map(|(k, &s)| window_of(s, stims.get(k + 1).copied(), segments, rate, cfg))
            .collect();
        let quiet = (0..stims.len())
            .map(|k| pre_quiet(stims, k, segments, rate, cfg))
            .collect();
        Measurer {
            quiet,
            x,
            stims,
            fracs,
            rate,
            cfg,
            hum,
            rails,
            steep_floor: 20.0 * noise_slope_sd.max(1e-12),
            windows,
        }
    }

    /// The windows, one per stimulus.
    pub fn into_windows(self) -> Vec<Window> {
        self.windows
    }

    /// The polarity the user chose, or the vote's.
    pub fn polarity(&self) -> (Polarity, PolaritySource) {
        match self.cfg.polarity {
            PolarityChoice::Negative => (Polarity::Negative, PolaritySource::User),
            PolarityChoice::Positive => (Polarity::Positive, PolaritySource::User),
            PolarityChoice::Auto => (self.vote_polarity(), PolaritySource::Auto),
        }
    }

    /// What the measurement of window `k` needs to know, with the rails in
    /// the window's orientation and the M-wave's span.
    fn context(
        &self,
        k: usize,
        rails: Option<(f64, f64)>,
        span: Option<(usize, usize)>,
    ) -> response::WindowContext {
        response::WindowContext {
            rails,
            steep_floor: self.steep_floor,
            pre_quiet: self.quiet[k],
            span,
        }
    }

    /// Measure window `k` (already filled, oriented, into `buf`) with the
    /// rails in the same orientation, the peak sought in `span`.
    fn measure_one(
        &self,
        buf: &[f64],
        k: usize,
        rails: Option<(f64, f64)>,
        span: Option<(usize, usize)>,
    ) -> Option<Measurement> {
        let (a, _, s) = self.windows[k];
        let wctx = self.context(k, rails, span);
        response::measure(buf, s - a, self.rate, &self.cfg.measure, wctx)
    }

    /// The M-wave's span, samples after the stimulus: the user's
    /// `--window-ms`, or the recording's own. The M-wave is the first
    /// response after the stimulus (an H-reflex or F-wave comes later), and
    /// its latency is the muscle's, the same from one response to the next:
    /// the span is found by that consistency. Each window's first
    /// substantial component (of the windows with a quiet pre-stimulus span,
    /// when there are any) votes for its latency; the latency shared by the
    /// most components (within half their median width; ties: the larger
    /// components) wins, and the span runs from `L − 1.5 W` to `L + W`, `L`
    /// and `W` the median latency and half-height width of its components.
    /// A few windows of something else (a stimulus found on a transient, a
    /// late wave larger than a weak M-wave) do not move it. `None` when no
    /// window holds a component.
    fn m_span(&self, comps: &[Option<response::Component>]) -> Option<(usize, usize)> {
        if let Some((a, b)) = self.cfg.measure.m_window {
            return Some((self.rate.samples_in(a), self.rate.samples_in(b).max(1)));
        }
        // Inside a high-rate train each window starts on the previous
        // response's tail: the quiet windows vote when there are any.
        let quiet: Vec<&response::Component> = comps
            .iter()
            .enumerate()
            .filter(|&(k, _)| self.quiet[k])
            .filter_map(|(_, c)| c.as_ref())
            .collect();
        let mut found: Vec<&response::Component> = if quiet.is_empty() {
            comps.iter().flatten().collect()
        } else {
            quiet
        };
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| a.peak.total_cmp(&b.peak));
        let tol = 0.5 * dsp::median(&found.iter().map(|c| c.width).collect::<Vec<_>>());
        // The components within ±tol of each one's latency (two pointers
        // over the sorted latencies), and their total size.
        let (mut lo, mut hi) = (0, 0);
        let mut best: Option<(usize, f64, usize, usize)> = None;
        for c in &found {
            while found[lo].peak < c.peak - tol {
                lo += 1;
            }
            while hi < found.len() && found[hi].peak <= c.peak + tol {
                hi += 1;
            }
            let size: f64 = found[lo..hi].iter().map(|c| c.top).sum();
            let better = best.is_none_or(|(n, s, _, _)| hi - lo > n || (hi - lo == n && size > s));
            if better {
                best = Some((hi - lo, size, lo, hi));
            }
        }
        let (_, _, a, b) = best?;
        let cluster = &found[a..b];
        let l = dsp::median(&cluster.iter().map(|c| c.peak).collect::<Vec<_>>());
        let w = dsp::median(&cluster.iter().map(|c| c.width).collect::<Vec<_>>());
        Some(span_around(l, w))
    }

    /// Amplitude-weighted vote on which way the main phase points: `negative`
    /// (standard) or `positive` (an inverted file).
    fn vote_polarity(&self) -> Polarity {
        let Measurer {
            x,
            stims,
            rate,
            hum,
            rails,
            ..
        } = *self;
        let windows = &self.windows;
        let w = rate.samples_in(Ms(0.3)).max(1);
        // Each window's vote is its own (on all threads); they add up in order.
        // The first 60 windows, those with a quiet pre-stimulus span when
        // there are any: inside a high-rate train a window starts on the
        // previous response's tail, which can outvote its own response.
        let first: Vec<usize> = (0..stims.len().min(60)).collect();
        let quiet: Vec<usize> = first.iter().copied().filter(|&k| self.quiet[k]).collect();
        let voters = if quiet.is_empty() { first } else { quiet };
        let votes: Vec<f64> = voters
            .into_par_iter()
            .map_init(Vec::new, |buf, k| -> f64 {
                let s = stims[k];
                let (a, b, _) = windows[k];
                fill_window(x, a, b, 1.0, hum, buf);
                let Some(m) = self.measure_one(buf, k, rails, None) else {
                    return 0.0;
                };
                let from = s - a + m.blank_end;
                if from + 2 >= buf.len() {
                    return 0.0;
                }
                // The level before the response: the pre-stimulus one, or
                // the first sample after the artifact.
                let pre_level = m.pre_baseline.unwrap_or(buf[from]);
                let ys_all = dsp::moving_average(&buf[from..], w);
                // Skip a decaying artifact tail: while the signal keeps moving the same
                // way from the window start towards the baseline, it is not the CMAP.
                let mut skip = 0;
                if ys_all.len() > 2 {
                    let dir = (ys_all[1] - ys_all[0]).signum();
                    let towards_base = (pre_level - ys_all[0]).signum() == dir;
                    if towards_base {
                        while skip + 1 < ys_all.len()
                            && (ys_all[skip + 1] - ys_all[skip]).signum() == dir
                        {
                            skip += 1;
                        }
                    }
                }
                let ys = &ys_all[skip..];
                let (ip, p) = ys
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                    );
                let (in_, nv) = ys
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::INFINITY),
                        |acc, (i, &v)| if v < acc.1 { (i, v) } else { acc },
                    );
                let p = p - pre_level;
                let nmag = pre_level - nv;
                // The main phase comes first when both phases are substantial.
                let neg_main = if nmag >= 0.4 * p && p >= 0.4 * nmag {
                    in_ < ip
                } else {
                    nmag > p
                };
                if neg_main {
                    -nmag.max(0.0)
                } else {
                    p.max(0.0)
                }
            })
            .collect();
        let vote: f64 = votes.iter().sum();
        if vote > 0.0 {
            Polarity::Positive
        } else {
            Polarity::Negative
        }
    }

    /// Measure every window with polarity `polarity` (in parallel, collected
    /// in order); with `collect`, keep each response's trace.
    pub fn measure_all(&self, polarity: Polarity, collect: bool) -> Vec<Measured> {
        let sign = polarity.sign();
        let oriented_rails = self
            .rails
            .map(|(lo, hi)| if sign > 0.0 { (lo, hi) } else { (-hi, -lo) });
        let (x, rate) = (self.x, self.rate);
        // Pass 1: each window's first component, for the M-wave's span.
        let comps: Vec<Option<response::Component>> = if self.cfg.measure.m_window.is_some() {
            Vec::new()
        } else {
            self.stims
                .par_iter()
                .enumerate()
                .map_init(Vec::new, |buf, (k, &s)| {
                    let (a, b, _) = self.windows[k];
                    fill_window(x, a, b, sign, self.hum, buf);
                    let wctx = self.context(k, oriented_rails, None);
                    response::first_component(buf, s - a, rate, &self.cfg.measure, wctx)
                })
                .collect()
        };
        let span = self.m_span(&comps);

        self.stims
            .par_iter()
            .enumerate()
            .map_init(Vec::new, |buf, (k, &s)| -> Measured {
                let (a, b, _) = self.windows[k];
                fill_window(x, a, b, sign, self.hum, buf);
                let m = self.measure_one(buf, k, oriented_rails, span).map(|mut m| {
                    // Times are relative to the sub-sample stimulus time.
                    let f = self.fracs[k];
                    m.onset -= f;
                    m.phase_start -= f;
                    m.peak -= f;
                    m.phase_end -= f;
                    m.latency_ms -= f * rate.dt_ms();
                    let clipped = oriented_rails.is_some_and(|(lo, hi)| {
                        let from = (s - a + m.blank_end).min(buf.len());
                        let to = ((s - a) as f64 + f + m.phase_end).ceil().max(0.0) as usize;
                        buf[from..to.min(buf.len()).max(from)]
                            .iter()
                            .any(|&v| v <= lo + 1e-9 * lo.abs() || v >= hi - 1e-9 * hi.abs())
                    });
                    (m, clipped)
                });
                let trace = if collect {
                    m.as_ref().map(|(m, _)| {
                        ResponseTrace::new(buf, s - a, self.fracs[k], rate.dt_ms(), m)
                    })
                } else {
                    None
                };
                (m, trace)
            })
            .collect()
    }
}

/// The window `[a, b)` around stimulus `s`, and the end of the pre-stimulus part.
fn window_of(
    s: usize,
    next: Option<usize>,
    segments: &[(usize, usize)],
    rate: SampleRate,
    cfg: &AnalysisConfig,
) -> Window {
    let (sa, sb) = segment_holding(segments, s).unwrap_or((0, s + 1));
    let a = s
        .saturating_sub(rate.samples_in(cfg.measure.pre_stimulus) + 2)
        .max(sa);
    let mut b = (s + rate.samples_in(cfg.measure.max_window)).min(sb);
    if let Some(nx) = next {
        // Primer §2: the window must end before the next stimulus [N5][N7][FC2].
        b = b.min(nx.saturating_sub(rate.samples_in(cfg.measure.guard_before_next)));
    }
    (a, b.max(s + 1), s)
}

/// Whether the pre-stimulus span of stimulus `k` is free of the previous
/// response: it is the first, the previous one is a window and a
/// pre-stimulus span away, or in another segment (another sweep).
fn pre_quiet(
    stims: &[usize],
    k: usize,
    segments: &[(usize, usize)],
    rate: SampleRate,
    cfg: &AnalysisConfig,
) -> bool {
    k == 0
        || stims[k] - stims[k - 1]
            >= rate.samples_in(cfg.measure.max_window) + rate.samples_in(cfg.measure.pre_stimulus)
        || segment_holding(segments, stims[k]) != segment_holding(segments, stims[k - 1])
}

/// Copy `x[a..b]` oriented and with hum removed into `buf`.
fn fill_window(
    x: &[f32],
    a: usize,
    b: usize,
    sign: f64,
    hum: Option<&HumModel>,
    buf: &mut Vec<f64>,
) {
    buf.clear();
    match hum {
        Some(h) => {
            h.values_into(a, b, buf);
            for (o, &v) in buf.iter_mut().zip(&x[a..b]) {
                *o = sign * (v as f64 - *o);
            }
        }
        None => buf.extend(x[a..b].iter().map(|&v| sign * (v as f64 - 0.0))),
    }
}

/// The M-wave's span, samples after the stimulus, around components of
/// median peak latency `l` and half-height width `w` (samples): from
/// `l − 1.5 w` (the rise before the peak) to `l + w`.
pub(crate) fn span_around(l: f64, w: f64) -> (usize, usize) {
    let from = (l - 1.5 * w).floor().max(0.0) as usize;
    let to = (l + w).ceil().max(from as f64 + 2.0) as usize;
    (from, to)
}
