/// Something a statement does that a rule may care about, with the labels of the data involved
/// and where it sits (enclosing loops and conditions, whether autograd is off).
public struct FlowEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// `loss.backward()`, an in-place update of `param.data`: labels of the loss / update.
        case update
        /// `optimizer.step()` (no data labels of its own).
        case optimizerStep
        /// A computation under `no_grad`/`inference_mode`, or an accumulation into a loss or
        /// NLL sum: labels of what is scored.
        case score
        /// `torch.save`, a compressor, a `quantize*` function: the artifact is being produced.
        case serialize
        /// A call that calibrates quantization or fits statistics (`collect_hessians`,
        /// `calibrate`, `gptq`), labels of its arguments.
        case calibrate
        /// An XOR or `hash()` mixing values into a key; labels of each operand in `operands`.
        case hashMix
        /// The test of an `if`/`while`: labels of what the branch depends on.
        case decision
    }

    /// A loop around the event: its line range and the names its `for` binds.
    public struct Loop: Sendable, Equatable {
        public var line: Int
        public var endLine: Int
        public var targets: [String]
        /// Labels of what the `for` iterates over (empty for `while`): a loop over a plain count
        /// repeats the same work, a loop over validation data or its extent walks through it.
        public var iterable: DataLabels = []
    }

    public var kind: Kind
    public var labels: DataLabels
    public var line: Int
    /// For `hashMix`, labels of each mixed operand.
    public var operands: [DataLabels] = []
    /// Enclosing loops in this function, outermost first.
    public var loops: [Loop]
    /// Tests of enclosing `if`/`while` statements in this function, outermost first.
    public var conditions: [PyNode]
    /// Whether autograd is off here (`with torch.no_grad()`, a decorated function).
    public var gradientFree: Bool
    /// For an event a call contributes: the function called (index in ``ModuleIndex``).
    public var via: Int?
    /// Short text about the event (the call's name).
    public var detail: String
    /// For a `score` recorded by an accumulation (`loss_sum += nll.sum()`): the name accumulated into.
    public var accumulator: String? = nil
    /// For an event a call contributes: the default-off feature every such event of the
    /// function called sits behind (`if args.lora_ttt:` inside it).
    public var inheritedGate: String? = nil
    /// Tests false where the event happens, outermost first: the `if` whose `else` holds it, and an
    /// earlier `if` of its statement list whose body always leaves (`if mode == "off": return`).
    public var negatedConditions: [PyNode] = []
}

/// What a function does, in terms of its parameters, for use at its call sites.
public struct FunctionSummary: Sendable, Equatable {
    /// Labels of the returned value.
    public var returns: DataLabels = []
    /// Per event kind: the union of the labels of those events (direct or through calls), and
    /// whether any such event happens at all.
    public var events: [FlowEvent.Kind: DataLabels] = [:]
    /// Labels of each element when every `return` with a value returns a tuple of this many
    /// elements (`return train, val`), so `a, b = f()` binds each name to its own element.
    public var returnElements: [DataLabels]? = nil
    /// Per event kind: the default-off feature every event of that kind sits behind.
    public var gates: [FlowEvent.Kind: String] = [:]
    /// Per event kind: a parameter with an off default (`ttt_enabled=False`) that every event of
    /// that kind is tested on; a call that does not pass it does not run them.
    public var parameterGates: [FlowEvent.Kind: Int] = [:]
}
