//! Stage 3, fold: a channel's due messages go out as one summary in a storm (more than
//! `storm_threshold` messages to the channel within a minute, counting those already sent)
//! or when several held messages are released together at a quiet window's end.

/// How a channel's due messages go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    /// One message each.
    Each,
    /// One summary of them all.
    Summary,
}

/// How `due` messages (`held` of them released from quiet hours) go out on a channel that
/// already got `sent` messages in the current window.
pub(super) fn fold(due: usize, held: usize, sent: usize, storm_threshold: u32) -> Fold {
    let storm = due + sent > storm_threshold as usize;
    if due > 1 && (storm || held > 1) {
        Fold::Summary
    } else {
        Fold::Each
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_the_threshold_in_a_window_or_several_held_fold_into_one_summary() {
        assert_eq!(fold(5, 0, 0, 5), Fold::Each);
        assert_eq!(fold(6, 0, 0, 5), Fold::Summary);
        // Messages sent earlier in the window count.
        assert_eq!(fold(2, 0, 4, 5), Fold::Summary);
        // One message is never a summary.
        assert_eq!(fold(1, 0, 100, 5), Fold::Each);
        // Held messages released together fold whatever the threshold.
        assert_eq!(fold(2, 2, 0, 100), Fold::Summary);
        assert_eq!(fold(2, 1, 0, 100), Fold::Each);
    }
}
