//! Line framer: arbitrary bytes, split into chunks, at several limits and both bare-LF
//! policies. Asserts: no panic; every line is within the limit and has no LF; the buffer
//! never holds a partial line longer than the limit; the chunking does not change the frames;
//! the borrowing entry point (`next_frame_in`) gives the same frames as `next_frame`.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mail_wire::line::{BareLf, Frame, LineFramer};

fn frames(input: &[u8], max: usize, policy: BareLf, chunk: usize) -> Vec<Frame> {
    let mut framer = LineFramer::new(max).with_bare_lf(policy);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(frame) = framer.next_frame(&mut buf) {
            if let Frame::Line(line) | Frame::BareLf(line) = &frame {
                assert!(!line.contains(&b'\n'));
                // The limit counts the line ending: CRLF for a line under `Reject`, at least
                // the LF otherwise (under `Accept` a line may end in either).
                let ending = match (&frame, policy) {
                    (Frame::Line(_), BareLf::Reject) => 2,
                    _ => 1,
                };
                assert!(line.len() + ending <= max.max(2), "{} octets", line.len());
            }
            out.push(frame);
        }
        assert!(buf.len() < max.max(2));
    }
    out
}

fn borrowed_frames(input: &[u8], max: usize, policy: BareLf) -> Vec<Frame> {
    let mut framer = LineFramer::new(max).with_bare_lf(policy);
    let mut rest = input;
    let mut out = Vec::new();
    while let Some(frame) = framer.next_frame_in(&mut rest) {
        out.push(frame.into_owned());
    }
    assert!(rest.len() < max.max(2));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let max = [2, 7, 64, 512][usize::from(control & 3)];
    let policy = if control & 4 == 0 {
        BareLf::Reject
    } else {
        BareLf::Accept
    };
    let chunk = usize::from(control >> 3) + 1;
    let whole = frames(input, max, policy, input.len());
    assert_eq!(whole, frames(input, max, policy, chunk));
    assert_eq!(whole, borrowed_frames(input, max, policy));
});
