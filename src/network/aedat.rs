//! Readers for real event-camera files, so users with real data run the same pipeline:
//! AEDAT 3.1 (jAER/cAER, the DVS128 Gesture release, with its label CSVs) and AEDAT 4
//! (DV software: flatbuffer packets, optionally LZ4-compressed).
//!
//! Why hand-written: the `aedat` crate links C lz4/zstd and Python-oriented dependencies;
//! the formats are small. AEDAT 4 support: EVTS streams, compression None or LZ4 (ZSTD
//! files are reported as unsupported, not misread).

use std::io::Read;
use std::path::Path;

use super::events::{Event, EventStream};

fn rd(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn u16_at(b: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(p..p + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], p: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(p..p + 4)?.try_into().ok()?))
}
fn i32_at(b: &[u8], p: usize) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(p..p + 4)?.try_into().ok()?))
}
fn i64_at(b: &[u8], p: usize) -> Option<i64> {
    Some(i64::from_le_bytes(b.get(p..p + 8)?.try_into().ok()?))
}

/// AEDAT 3.1 polarity events (`eventType` 1) of a whole file; sensor 128×128 (DVS128)
/// unless the header names another size. Timestamps as recorded (µs), not rebased.
pub fn read_aedat31(path: &Path) -> Result<(u16, u16, Vec<Event>), String> {
    let b = rd(path)?;
    let end_tag = b"#!END-HEADER\r\n";
    let start = b
        .windows(end_tag.len())
        .position(|w| w == end_tag)
        .ok_or_else(|| {
            format!(
                "{}: no `#!END-HEADER` line: not an AEDAT 3.1 file",
                path.display()
            )
        })?
        + end_tag.len();
    let header = String::from_utf8_lossy(&b[..start]);
    if !header.starts_with("#!AER-DAT3") {
        return Err(format!(
            "{}: not an AEDAT 3.x file (header starts {:?})",
            path.display(),
            header.lines().next().unwrap_or("")
        ));
    }
    let (w, h) = if header.contains("DAVIS346") {
        (346, 260)
    } else if header.contains("DAVIS240") {
        (240, 180)
    } else {
        (128, 128)
    };
    let mut p = start;
    let mut ev = Vec::new();
    while p + 28 <= b.len() {
        let etype = u16_at(&b, p).unwrap_or(0);
        let esize = i32_at(&b, p + 4).unwrap_or(0).max(0) as usize;
        let overflow = i32_at(&b, p + 12).unwrap_or(0) as i64;
        let number = i32_at(&b, p + 20).unwrap_or(0).max(0) as usize;
        let body = p + 28;
        let len = esize * number;
        if body + len > b.len() {
            return Err(format!(
                "{}: byte {p}: packet runs past the end of the file",
                path.display()
            ));
        }
        if etype == 1 && esize >= 8 {
            for k in 0..number {
                let q = body + k * esize;
                let data = u32_at(&b, q).unwrap_or(0);
                let ts = i32_at(&b, q + 4).unwrap_or(0) as i64;
                if data & 1 == 0 {
                    continue; // invalid event
                }
                ev.push(Event {
                    t_us: (overflow << 31) | ts,
                    x: ((data >> 17) & 0x7fff) as u16,
                    y: ((data >> 2) & 0x7fff) as u16,
                    on: (data >> 1) & 1 == 1,
                });
            }
        }
        p = body + len;
    }
    Ok((w, h, ev))
}

/// One row of a DVS128 Gesture label CSV (`class,startTime_usec,endTime_usec`), class 1..11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GestureLabel {
    pub class: u32,
    pub start_us: i64,
    pub end_us: i64,
}

/// Read a DVS128 Gesture label CSV; errors name file:line.
pub fn read_gesture_labels(path: &Path) -> Result<Vec<GestureLabel>, String> {
    let s = String::from_utf8(rd(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in s.lines().enumerate() {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() < 3 || f[0].parse::<u32>().is_err() {
            if i == 0 || line.trim().is_empty() {
                continue; // header line
            }
            return Err(format!(
                "{}:{}:1: expected `class,start_us,end_us`",
                path.display(),
                i + 1
            ));
        }
        let num = |k: usize| {
            f[k].parse::<i64>()
                .map_err(|e| format!("{}:{}: field {}: {e}", path.display(), i + 1, k + 1))
        };
        out.push(GestureLabel {
            class: f[0].parse().unwrap_or(0),
            start_us: num(1)?,
            end_us: num(2)?,
        });
    }
    Ok(out)
}

/// Cut the events of one labelled gesture into a stream starting at 0.
pub fn slice(width: u16, height: u16, events: &[Event], l: &GestureLabel) -> EventStream {
    EventStream {
        width,
        height,
        duration_us: (l.end_us - l.start_us).max(1),
        events: events
            .iter()
            .filter(|e| e.t_us >= l.start_us && e.t_us < l.end_us)
            .map(|e| Event {
                t_us: e.t_us - l.start_us,
                ..*e
            })
            .collect(),
    }
}

/// A stream declared in an AEDAT 4 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aedat4Stream {
    pub id: i32,
    pub type_id: String,
    pub width: u16,
    pub height: u16,
}

/// Contents of an AEDAT 4 file: its streams and the events of its event streams.
#[derive(Debug, Clone)]
pub struct Aedat4 {
    pub compression: i32,
    pub streams: Vec<Aedat4Stream>,
    pub events: Vec<Event>,
    /// Packets read (all streams).
    pub packets: usize,
}

/// Table field `i` position of a flatbuffer table at `table`, or None if absent.
fn fb_field(b: &[u8], table: usize, i: usize) -> Option<usize> {
    let vt = (table as i64 - i32_at(b, table)? as i64) as usize;
    let vt_len = u16_at(b, vt)? as usize;
    if 4 + 2 * i + 2 > vt_len {
        return None;
    }
    let off = u16_at(b, vt + 4 + 2 * i)? as usize;
    (off != 0).then_some(table + off)
}

fn attr<'a>(seg: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("key=\"{key}\"");
    let at = seg.find(&k)?;
    let rest = &seg[at..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(&rest[open..open + close])
}

/// Read an AEDAT 4 file (events of every EVTS stream, in file order).
pub fn read_aedat4(path: &Path) -> Result<Aedat4, String> {
    let b = rd(path)?;
    let err = |m: String| format!("{}: {m}", path.display());
    let magic = b"#!AER-DAT4.0\r\n";
    if !b.starts_with(magic) {
        return Err(err(
            "not an AEDAT 4 file (magic `#!AER-DAT4.0` missing)".into()
        ));
    }
    let mut p = magic.len();
    let hl = u32_at(&b, p).ok_or_else(|| err("truncated header".into()))? as usize;
    p += 4;
    let hb = b
        .get(p..p + hl)
        .ok_or_else(|| err("truncated IO header".into()))?;
    let root = u32_at(hb, 0).ok_or_else(|| err("bad IO header".into()))? as usize;
    let compression = fb_field(hb, root, 0)
        .and_then(|q| i32_at(hb, q))
        .unwrap_or(0);
    let data_end = fb_field(hb, root, 1)
        .and_then(|q| i64_at(hb, q))
        .unwrap_or(-1);
    let desc = fb_field(hb, root, 2)
        .and_then(|q| {
            let s = q + u32_at(hb, q)? as usize;
            let n = u32_at(hb, s)? as usize;
            std::str::from_utf8(hb.get(s + 4..s + 4 + n)?).ok()
        })
        .ok_or_else(|| err("IO header has no description".into()))?;
    // Stream nodes: `path=".../outInfo/<id>/"` (their `info` child nodes share the prefix).
    let tag = "path=\"/mainloop/Recorder/outInfo/";
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(at) = desc[from..].find(tag) {
        let a = from + at + tag.len();
        let digits = desc[a..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && desc[a + digits..].starts_with("/\"") {
            starts.push((a, desc[a..a + digits].parse::<i32>().unwrap_or(-1)));
        }
        from = a;
    }
    let mut streams = Vec::new();
    for (k, &(a, id)) in starts.iter().enumerate() {
        let seg = &desc[a..starts.get(k + 1).map(|s| s.0).unwrap_or(desc.len())];
        streams.push(Aedat4Stream {
            id,
            type_id: attr(seg, "typeIdentifier").unwrap_or("").to_string(),
            width: attr(seg, "sizeX").and_then(|s| s.parse().ok()).unwrap_or(0),
            height: attr(seg, "sizeY").and_then(|s| s.parse().ok()).unwrap_or(0),
        });
    }
    p += hl;
    let mut events = Vec::new();
    let mut packets = 0;
    while p + 8 <= b.len() && (data_end < 0 || (p as i64) < data_end) {
        let sid = i32_at(&b, p).unwrap_or(-1);
        let len = u32_at(&b, p + 4).unwrap_or(0) as usize;
        let raw = b
            .get(p + 8..p + 8 + len)
            .ok_or_else(|| err(format!("byte {p}: packet of {len} bytes runs past the end")))?;
        p += 8 + len;
        packets += 1;
        let Some(st) = streams.iter().find(|s| s.id == sid) else {
            return Err(err(format!("byte {p}: packet of undeclared stream {sid}")));
        };
        if st.type_id != "EVTS" {
            continue;
        }
        let buf = match compression {
            0 => raw.to_vec(),
            1 | 2 => {
                let mut out = Vec::new();
                lz4_flex::frame::FrameDecoder::new(raw)
                    .read_to_end(&mut out)
                    .map_err(|e| err(format!("byte {p}: LZ4: {e}")))?;
                out
            }
            c => {
                return Err(err(format!(
                    "compression {c} (ZSTD) is not supported by this reader"
                )));
            }
        };
        // Size-prefixed flatbuffer with identifier EVTS.
        if buf.get(8..12) != Some(b"EVTS") {
            return Err(err(format!(
                "byte {p}: event packet without EVTS identifier"
            )));
        }
        let fb = &buf[4..];
        let bad = || err(format!("byte {p}: malformed event packet"));
        let root = u32_at(fb, 0).ok_or_else(bad)? as usize;
        let Some(f) = fb_field(fb, root, 0) else {
            continue;
        };
        let v = f + u32_at(fb, f).ok_or_else(bad)? as usize;
        let n = u32_at(fb, v).ok_or_else(bad)? as usize;
        for k in 0..n {
            let q = v + 4 + 16 * k;
            let t = i64_at(fb, q).ok_or_else(bad)?;
            let x = u16_at(fb, q + 8).ok_or_else(bad)?;
            let y = u16_at(fb, q + 10).ok_or_else(bad)?;
            let on = *fb.get(q + 12).ok_or_else(bad)? != 0;
            events.push(Event { t_us: t, x, y, on });
        }
    }
    Ok(Aedat4 {
        compression,
        streams,
        events,
        packets,
    })
}

/// Events of an AEDAT 4 file as a stream starting at 0 (first event), for binning.
pub fn aedat4_stream(a: &Aedat4) -> Option<EventStream> {
    let st = a.streams.iter().find(|s| s.type_id == "EVTS")?;
    let t0 = a.events.first()?.t_us;
    let t1 = a.events.iter().map(|e| e.t_us).max()?;
    Some(EventStream {
        width: st.width,
        height: st.height,
        duration_us: t1 - t0 + 1,
        events: a
            .events
            .iter()
            .map(|e| Event {
                t_us: e.t_us - t0,
                ..*e
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head (first 27 packets, MIT licence, see tests/data/*.LICENSE) of the real
    /// DAVIS346 recording shipped with the `aedat` crate 1.3.3.
    const HEAD: &str = "tests/data/test_data_head.aedat4";

    #[test]
    fn aedat4_real_recording_decodes() {
        let a = read_aedat4(Path::new(HEAD)).unwrap();
        assert_eq!(a.compression, 1, "the file is LZ4-compressed");
        let ev = a.streams.iter().find(|s| s.type_id == "EVTS").unwrap();
        assert_eq!((ev.width, ev.height), (346, 260));
        assert_eq!(a.packets, 27);
        assert!(a.events.len() > 1_000, "{} events", a.events.len());
        // Physical sanity of a real sensor: coordinates inside the array, time ordered
        // within microseconds of a sane span, both polarities present.
        assert!(a.events.iter().all(|e| e.x < 346 && e.y < 260));
        assert!(a.events.windows(2).all(|w| w[1].t_us >= w[0].t_us));
        let on = a.events.iter().filter(|e| e.on).count();
        assert!(on > a.events.len() / 10 && on < a.events.len() * 9 / 10);
        let s = aedat4_stream(&a).unwrap();
        assert!(
            s.duration_us > 1_000 && s.duration_us < 10_000_000,
            "{}",
            s.duration_us
        );
        // Binning pipeline: all in-range events are counted (below saturation).
        let f = s.to_frames(4, 260, 346);
        let total: usize = f.iter().map(|&c| c as usize).sum();
        assert_eq!(total, a.events.len());
    }

    #[test]
    fn aedat31_roundtrip_of_written_packet() {
        // Two polarity events written per the AEDAT 3.1 spec, one invalid.
        let mut b = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#!END-HEADER\r\n".to_vec();
        let mut hdr = Vec::new();
        hdr.extend(1u16.to_le_bytes());
        hdr.extend(1u16.to_le_bytes());
        hdr.extend(8i32.to_le_bytes());
        hdr.extend(4i32.to_le_bytes());
        hdr.extend(1i32.to_le_bytes()); // overflow
        hdr.extend(3i32.to_le_bytes());
        hdr.extend(3i32.to_le_bytes());
        hdr.extend(2i32.to_le_bytes());
        b.extend(hdr);
        for (x, y, pol, valid, t) in [
            (5u32, 7u32, 1u32, 1u32, 100i32),
            (127, 0, 0, 1, 200),
            (1, 1, 1, 0, 300),
        ] {
            let d = (x << 17) | (y << 2) | (pol << 1) | valid;
            b.extend(d.to_le_bytes());
            b.extend(t.to_le_bytes());
        }
        let dir = std::env::temp_dir().join(format!("mtjsim_aedat31_{}", std::process::id()));
        std::fs::write(&dir, &b).unwrap();
        let (w, h, ev) = read_aedat31(&dir).unwrap();
        std::fs::remove_file(&dir).ok();
        assert_eq!((w, h), (128, 128));
        assert_eq!(
            ev,
            vec![
                Event {
                    t_us: (1 << 31) | 100,
                    x: 5,
                    y: 7,
                    on: true
                },
                Event {
                    t_us: (1 << 31) | 200,
                    x: 127,
                    y: 0,
                    on: false
                },
            ]
        );
    }
}
