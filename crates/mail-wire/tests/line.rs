//! Line framing: chunking invariance and agreement with a reference splitter, for both the
//! `BytesMut` entry point and the borrowing one.

use bytes::BytesMut;
use mail_wire::line::{BareLf, Frame, FrameRef, LineFramer};
use proptest::prelude::*;

fn run(max: usize, policy: BareLf, input: &[u8], splits: &[usize]) -> (Vec<Frame>, Vec<u8>) {
    let mut framer = LineFramer::new(max).with_bare_lf(policy);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut points: Vec<usize> = splits.iter().map(|&s| s.min(input.len())).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut fed = 0;
    for point in points {
        buf.extend_from_slice(&input[fed..point]);
        fed = point;
        while let Some(frame) = framer.next_frame(&mut buf) {
            frames.push(frame);
        }
        // Bounded memory: a partial line never exceeds the limit.
        assert!(buf.len() < max.max(2), "{} octets buffered", buf.len());
    }
    if framer.is_discarding() {
        buf.clear();
    }
    (frames, buf.to_vec())
}

/// [`run`] through `next_frame_in`: the input arrives in a `Vec` receive buffer, is framed in
/// place, and the consumed bytes are drained after each read, as a driver would.
fn run_in(max: usize, policy: BareLf, input: &[u8], splits: &[usize]) -> (Vec<Frame>, Vec<u8>) {
    let mut framer = LineFramer::new(max).with_bare_lf(policy);
    let mut received = Vec::new();
    let mut frames = Vec::new();
    let mut points: Vec<usize> = splits.iter().map(|&s| s.min(input.len())).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut fed = 0;
    for point in points {
        received.extend_from_slice(&input[fed..point]);
        fed = point;
        let mut rest = &received[..];
        while let Some(frame) = framer.next_frame_in(&mut rest) {
            frames.push(frame.into_owned());
        }
        let consumed = received.len() - rest.len();
        received.drain(..consumed);
        assert!(
            received.len() < max.max(2),
            "{} octets buffered",
            received.len()
        );
    }
    if framer.is_discarding() {
        received.clear();
    }
    (frames, received)
}

/// The same result computed the obvious way, line by line.
fn reference(max: usize, policy: BareLf, input: &[u8]) -> (Vec<Frame>, Vec<u8>) {
    let max = max.max(2);
    let mut frames = Vec::new();
    let mut rest = input;
    loop {
        match rest.iter().position(|&b| b == b'\n') {
            Some(lf) if lf < max => {
                let line = &rest[..lf];
                frames.push(match (line.strip_suffix(b"\r"), policy) {
                    (Some(text), _) => Frame::Line(text.to_vec().into()),
                    (None, BareLf::Accept) => Frame::Line(line.to_vec().into()),
                    (None, BareLf::Reject) => Frame::BareLf(line.to_vec().into()),
                });
                rest = &rest[lf + 1..];
            }
            Some(lf) => {
                frames.push(Frame::TooLong { limit: max });
                rest = &rest[lf + 1..];
            }
            None if rest.len() >= max => {
                frames.push(Frame::TooLong { limit: max });
                return (frames, Vec::new());
            }
            None => return (frames, rest.to_vec()),
        }
    }
}

fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), any::<u8>()],
        0..400,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_gives_the_reference_frames(
        input in input_strategy(),
        splits in prop::collection::vec(0usize..500, 0..8),
        max in 0usize..40,
        accept in any::<bool>(),
    ) {
        let policy = if accept { BareLf::Accept } else { BareLf::Reject };
        let expected = reference(max, policy, &input);
        prop_assert_eq!(&run(max, policy, &input, &[]), &expected);
        prop_assert_eq!(&run(max, policy, &input, &splits), &expected);
        let bytewise: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&run(max, policy, &input, &bytewise), &expected);
        prop_assert_eq!(&run_in(max, policy, &input, &[]), &expected);
        prop_assert_eq!(&run_in(max, policy, &input, &splits), &expected);
        prop_assert_eq!(&run_in(max, policy, &input, &bytewise), &expected);
    }

    /// Step by step, on the same reads, the borrowing entry point returns the frame
    /// `next_frame` returns, consumes the same bytes and leaves the framer in the same state,
    /// also when the limit changes between calls and with `finish` at the end.
    #[test]
    fn borrowed_frames_agree_with_next_frame(
        input in input_strategy(),
        splits in prop::collection::vec(0usize..500, 0..8),
        limits in prop::collection::vec(0usize..80, 1..6),
        accept in any::<bool>(),
    ) {
        let policy = if accept { BareLf::Accept } else { BareLf::Reject };
        let mut owned = LineFramer::new(limits[0]).with_bare_lf(policy);
        let mut borrowed = owned.clone();
        let mut buf = BytesMut::new();
        let mut received: Vec<u8> = Vec::new();
        let mut points: Vec<usize> = splits.iter().map(|&s| s.min(input.len())).collect();
        points.push(input.len());
        points.sort_unstable();
        let mut fed = 0;
        let mut calls = 0usize;
        for point in points {
            buf.extend_from_slice(&input[fed..point]);
            received.extend_from_slice(&input[fed..point]);
            fed = point;
            loop {
                calls += 1;
                let limit = limits[calls % limits.len()];
                owned.set_max_len(limit);
                borrowed.set_max_len(limit);
                let expected = owned.next_frame(&mut buf);
                let mut rest = &received[..];
                let got = borrowed.next_frame_in(&mut rest).map(FrameRef::into_owned);
                let consumed = received.len() - rest.len();
                received.drain(..consumed);
                prop_assert_eq!(&got, &expected);
                prop_assert_eq!(&received[..], &buf[..]);
                prop_assert_eq!(borrowed.is_discarding(), owned.is_discarding());
                if expected.is_none() {
                    break;
                }
            }
        }
        loop {
            let expected = owned.finish(&mut buf);
            let mut rest = &received[..];
            let got = borrowed.finish_in(&mut rest).map(FrameRef::into_owned);
            let consumed = received.len() - rest.len();
            received.drain(..consumed);
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(&received[..], &buf[..]);
            if expected.is_none() {
                break;
            }
        }
    }

    #[test]
    fn lines_never_contain_lf_and_respect_the_limit(input in input_strategy(), max in 2usize..64) {
        let (frames, _) = run(max, BareLf::Accept, &input, &[]);
        let (frames_in, _) = run_in(max, BareLf::Accept, &input, &[]);
        prop_assert_eq!(&frames_in, &frames);
        for frame in frames {
            if let Frame::Line(line) = frame {
                prop_assert!(!line.contains(&b'\n'));
                prop_assert!(line.len() < max);
            }
        }
    }
}
