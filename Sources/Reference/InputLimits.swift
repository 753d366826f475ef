/// The bounds pgverify puts on every size, count and setting it reads from a submission (files,
/// code, logs) or from its own flags, in one place. Each is far above what any record of the
/// challenge uses and low enough that every size computed from it fits an `Int` and every table
/// sized from it fits in memory; a value outside is refused with an error naming it and its source.
public enum InputLimits {
    /// How deep pickle containers (tuples, lists, dicts) may nest. torch.save's state dicts nest a
    /// handful of levels; releasing or walking a tree is recursive, and 256 levels keep that
    /// within a 512 KiB thread stack (tested on such a thread).
    public static let pickleNestingDepth = 256
}
