//! Event streams of a DVS camera: events, exact time reversal, and binning into frames.
//!
//! Why integer microseconds: time reversal `t → D − t` must be an exact involution, and
//! frame binning of the mirror must equal the time-flipped binning of the original.

use serde::{Deserialize, Serialize};

/// One DVS event: pixel (x, y), time (µs from the start of the recording), polarity
/// (`true` = ON, log intensity went up by one contrast threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub t_us: i64,
    pub x: u16,
    pub y: u16,
    pub on: bool,
}

/// A recording: sensor size, duration (µs) and time-ordered events (`0 ≤ t_us < duration`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventStream {
    pub width: u16,
    pub height: u16,
    pub duration_us: i64,
    pub events: Vec<Event>,
}

impl EventStream {
    /// The exact time mirror: `t → D − 1 − t`, order reversed, polarity flipped.
    ///
    /// Why the flip: an ON event records log I rising through a threshold between two
    /// instants; played backwards the same change is a fall, i.e. an OFF event. Why
    /// `D − 1 − t`: it maps `[0, D)` onto itself so the mirror is again a valid stream and
    /// mirroring twice gives back the original bit for bit.
    pub fn time_reversed(&self) -> EventStream {
        let d = self.duration_us;
        let events = self
            .events
            .iter()
            .rev()
            .map(|e| Event {
                t_us: d - 1 - e.t_us,
                on: !e.on,
                ..*e
            })
            .collect();
        EventStream {
            events,
            ..self.clone()
        }
    }

    /// Count events into `bins` equal time bins of a `2 × out_h × out_w` grid (channel 0 =
    /// ON, 1 = OFF), pooling the sensor down by integer factors (sensor size must be a
    /// multiple of the output size, else pixels are scaled by nearest neighbour). Counts
    /// saturate at 255. Layout: `[bin][polarity][y][x]`.
    pub fn to_frames(&self, bins: usize, out_h: usize, out_w: usize) -> Vec<u8> {
        let mut f = vec![0u8; bins * 2 * out_h * out_w];
        let d = self.duration_us.max(1) as i128;
        for e in &self.events {
            if e.t_us < 0 || e.t_us >= self.duration_us {
                continue;
            }
            // Bin by the interval [t, t+1): bin = floor((t + 1/2) bins / D) keeps the mirror
            // symmetric: t and D−1−t land in bins b and bins−1−b whenever (2t+1)·bins/(2D)
            // is not an integer (see `binning_commutes_with_reversal`).
            let b = (((2 * e.t_us as i128 + 1) * bins as i128) / (2 * d)) as usize;
            let x = e.x as usize * out_w / self.width.max(1) as usize;
            let y = e.y as usize * out_h / self.height.max(1) as usize;
            if b >= bins || x >= out_w || y >= out_h {
                continue;
            }
            let c = if e.on { 0 } else { 1 };
            let i = ((b * 2 + c) * out_h + y) * out_w + x;
            f[i] = f[i].saturating_add(1);
        }
        f
    }
}

/// Time-flip and polarity-swap frames `[bin][pol][h][w]` (the frame-level mirror).
pub fn mirror_frames(frames: &[u8], bins: usize) -> Vec<u8> {
    let per_bin = frames.len() / bins.max(1);
    let plane = per_bin / 2;
    let mut out = vec![0u8; frames.len()];
    for b in 0..bins {
        let src = &frames[b * per_bin..(b + 1) * per_bin];
        let dst = &mut out[(bins - 1 - b) * per_bin..(bins - b) * per_bin];
        dst[..plane].copy_from_slice(&src[plane..]);
        dst[plane..].copy_from_slice(&src[..plane]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn random_stream(seed: u64) -> EventStream {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
        let d = 1_200_000;
        let mut ts: Vec<i64> = (0..5000).map(|_| r.random_range(0..d)).collect();
        ts.sort();
        EventStream {
            width: 64,
            height: 64,
            duration_us: d,
            events: ts
                .into_iter()
                .map(|t| Event {
                    t_us: t,
                    x: r.random_range(0..64),
                    y: r.random_range(0..64),
                    on: r.random_bool(0.5),
                })
                .collect(),
        }
    }

    #[test]
    fn reversal_is_an_involution_that_flips_polarity() {
        let s = random_stream(3);
        let r = s.time_reversed();
        assert_ne!(r, s);
        assert_eq!(r.time_reversed(), s);
        // Every event's mirror has the opposite polarity and mirrored time; order ascending.
        for (e, m) in s.events.iter().zip(r.events.iter().rev()) {
            assert_eq!(m.on, !e.on);
            assert_eq!(m.t_us, s.duration_us - 1 - e.t_us);
        }
        assert!(r.events.windows(2).all(|w| w[0].t_us <= w[1].t_us));
        let on = |s: &EventStream| s.events.iter().filter(|e| e.on).count();
        assert_eq!(on(&r), s.events.len() - on(&s));
    }

    #[test]
    fn binning_commutes_with_reversal() {
        let s = random_stream(9);
        let bins = 12; // D = 1.2 s: bin edges at multiples of 100 ms
        let f = s.to_frames(bins, 32, 32);
        let fr = s.time_reversed().to_frames(bins, 32, 32);
        assert_eq!(mirror_frames(&f, bins), fr);
        assert_eq!(mirror_frames(&mirror_frames(&f, bins), bins), f);
        assert_eq!(f.iter().map(|&c| c as usize).sum::<usize>(), s.events.len());
    }
}
