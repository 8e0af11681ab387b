//! Time and size bounds on hostile input (issue 14): every pathological shape
//! is read in time linear in its size, checked against a clean message of the
//! same size read in the same run (`ems_testdata::hostile::assert_linear`).

use ems_stu3::{from_json, from_xml, line_col, LineIndex};
use ems_testdata::hostile;

/// Reference for the line index: rescan from byte 0 (the old `line_col`).
fn rescan(src: &[u8], pos: usize) -> (u32, u32) {
    let before = &src[..pos.min(src.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line as u32, col as u32)
}

/// Finding 2: the index gives the rescan's answer at every offset, across
/// block boundaries, multi-byte characters and empty lines.
#[test]
fn finding_2_line_index_matches_a_rescan() {
    let mut s = String::new();
    for i in 0..700 {
        s.push_str(["ab", "é", "\n", "𝄞x", "\n\n", "€€€", "<x/>"][i % 7]);
    }
    for len in [0, 1, 1023, 1024, 1025, s.len()] {
        let src = &s.as_bytes()[..len.min(s.len())];
        let src = &src[..(0..=src.len())
            .rev()
            .find(|&k| s.is_char_boundary(k))
            .unwrap()];
        let ix = LineIndex::new(src);
        for pos in 0..=src.len() + 2 {
            if pos <= src.len() && !s.is_char_boundary(pos) {
                continue;
            }
            assert_eq!(ix.line_col(pos), rescan(src, pos), "len {len} pos {pos}");
            assert_eq!(line_col(src, pos), rescan(src, pos));
        }
    }
}

/// Finding 2: one line of unknown elements (an issue each) was quadratic:
/// 600 KB took 68 s. Positions now come from a line index.
#[test]
fn finding_2_unknown_elements_are_linear() {
    let size = 1024 * 1024;
    hostile::assert_scales_linearly(
        "unknown elements (XML)",
        size,
        hostile::unknown_elements_xml,
        |b| {
            assert!(!from_xml(b).expect("reads").outcome.issues.is_empty());
        },
    );
    hostile::assert_scales_linearly(
        "unknown properties (JSON)",
        size,
        hostile::unknown_properties_json,
        |b| {
            assert!(!from_json(b).expect("reads").outcome.issues.is_empty());
        },
    );
}
