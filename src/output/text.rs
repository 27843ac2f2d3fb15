//! Human-readable summary: the pattern first with its findings (the deciding
//! one first) and every warning, then one table per train, the session
//! figures and the quality flags.

use crate::analysis::Analysis;
use crate::output::words;
use std::fmt::Write;

fn num(v: Option<f64>, unit: &str) -> String {
    v.map_or("—".to_string(), |x| format!("{x:.1}{unit}"))
}

/// Render one analysis as text.
pub fn render(a: &Analysis) -> String {
    let mut s = String::new();
    let src = &a.source;
    let _ = writeln!(s, "{}", src.path);
    let _ = writeln!(
        s,
        "  {} · {} Hz · channel {} ({}) · {:.1} s · stimuli from {} · main phase {} ({})",
        src.format.name(),
        src.sample_rate_hz,
        src.channel,
        src.channel_label,
        src.duration_s,
        words::stimulus_source_words(src.stimulus_source),
        src.polarity,
        src.polarity_source
    );
    if let Some(m) = &a.protocol.muscle {
        let _ = writeln!(
            s,
            "  muscle {m}{}{}",
            a.protocol
                .nerve
                .as_ref()
                .map_or(String::new(), |n| format!(" · nerve {n}")),
            a.protocol
                .temperature_c
                .map_or(String::new(), |t| format!(" · {t:.1} °C"))
        );
    }
    let study: Vec<String> = a
        .study
        .rows()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "muscle" | "nerve"))
        .map(|(k, v)| format!("{}: {v}", crate::study::field_label(k)))
        .collect();
    for line in study {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  PATTERN: {}",
        a.classification
            .pattern
            .name()
            .to_uppercase()
            .replace('_', "-")
    );
    for f in words::findings_by_importance(&a.classification) {
        let _ = writeln!(s, "    - {}", f.message);
    }
    if words::limb_was_cool(&a.classification) {
        let _ = writeln!(
            s,
            "    ! the limb was cool: warm the limb and repeat the study"
        );
    }
    // Every warning under the verdict, by code (the messages are under
    // Quality): a reader of the verdict alone must not miss one.
    let warnings: Vec<String> = a
        .quality
        .iter()
        .filter(|q| q.severity == crate::vocab::Severity::Warning)
        .map(|q| match q.train {
            Some(t) => format!("{} (train {t})", q.code.name().replace('_', " ")),
            None => q.code.name().replace('_', " "),
        })
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(s, "    ! warnings: {}", warnings.join(", "));
    }
    for t in &a.trains {
        let _ = writeln!(s);
        // The label says the role and the delay after exercise; the role's
        // own words only when they add to it.
        let label = words::train_label(t);
        let role = words::role_words(t.role);
        let _ = writeln!(
            s,
            "  Train {} · {label} ({}role from {}) · {} · start {} · {}",
            t.index,
            if label == role {
                String::new()
            } else {
                format!("{role}; ")
            },
            words::role_source_words(t.role_source),
            t.rate_hz.map_or("single".into(), |r| format!("{r:.1} Hz")),
            t.start_s.map_or("—".into(), |v| format!("{v:.2} s")),
            words::count(t.responses.len(), "response"),
        );
        let _ = writeln!(
            s,
            "    {:>3}  {:>9}  {:>8}  {:>8}  {:>8}  {:>9}  {:>8}  {:>7}",
            "#", "stim (s)", "lat (ms)", "amp (mV)", "p-p (mV)", "area mVms", "dur (ms)", "amp %"
        );
        for r in &t.responses {
            let _ = writeln!(
                s,
                "    {:>3}  {:>9}  {:>8.2}  {:>8.3}  {:>8.3}  {:>9.3}  {:>8.2}  {:>7}",
                r.index,
                r.stimulus_s.map_or("—".into(), |v| format!("{v:.3}")),
                r.latency_ms,
                r.amplitude_mv,
                r.peak_to_peak_mv,
                r.area_mv_ms,
                r.duration_ms,
                num(r.amplitude_rel_pct, "")
            );
        }
        let mut line = Vec::new();
        if t.decrement_pct.is_some() || t.max_decrement_pct.is_some() {
            line.push(format!(
                "decrement 4th {} · 5th {} · max 2–5 {} · area 4th {}",
                num(t.decrement_pct, " %"),
                num(t.decrement_5th_pct, " %"),
                num(t.max_decrement_pct, " %"),
                num(t.area_decrement_pct, " %")
            ));
        }
        if t.increment_pct.is_some() {
            line.push(format!(
                "increment max {} (area {}) · last {} (area {})",
                num(t.increment_pct, " %"),
                num(t.area_increment_pct, " %"),
                num(t.last_increment_pct, " %"),
                num(t.last_area_increment_pct, " %")
            ));
        }
        if let Some(sh) = t.shape {
            line.push(format!("shape {}", words::shape_words(sh)));
        }
        for l in line {
            let _ = writeln!(s, "    {l}");
        }
    }
    let ss = &a.session;
    if a.post_exercise_increment_pct.is_some() || ss.exercise_end_s.is_some() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  Exercise {} · post-exercise increment {} (area {}) · repair {} · exhaustion {}",
            match (ss.exercise_start_s, ss.exercise_end_s) {
                (Some(a0), Some(b0)) => format!("{a0:.1}–{b0:.1} s"),
                _ => "not seen".into(),
            },
            num(a.post_exercise_increment_pct, " %"),
            num(a.post_exercise_area_increment_pct, " %"),
            ss.repair
                .map_or("—".into(), |b| if b { "yes" } else { "no" }.to_string()),
            ss.exhaustion
                .map_or("—".into(), |b| if b { "yes" } else { "no" }.to_string()),
        );
    }
    if !a.quality.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "  Quality:");
        for q in &a.quality {
            let _ = writeln!(
                s,
                "    [{}] {}{}: {}",
                q.severity,
                q.code,
                q.train.map_or(String::new(), |t| format!(" (train {t})")),
                q.message
            );
        }
    }
    s
}
