/// What a value may derive from, as bits: the data kinds the rules care about, and per parameter
/// of the function being analysed one bit for its content, one for its extent and one for the
/// tokens following a position in it (so a
/// function's behaviour can be summarised once and specialised at each call site).
///
/// Content and extent are told apart because they may control different things: the tokens of
/// validation data, and the losses and predictions computed from them, carry validation
/// information; their sizes (`len(val_tokens)`, `.numel()`, `.shape`, `range(...)` over them, a
/// batch counter from `enumerate`) only say how much data there is. A loop may stop at a count
/// derived from validation data; a checkpoint may not be chosen by a validation loss.
public struct DataLabels: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Validation data (`val_tokens`, `fineweb_val_*` shards) or anything computed from its
    /// content: token values, losses, metrics, predictions.
    public static let validation = DataLabels(rawValue: 1 << 0)
    /// The token being predicted (`y`, `targets`, `tgt`).
    public static let target = DataLabels(rawValue: 1 << 1)
    /// Training data (`train_files`, `fineweb_train_*`, the train loader).
    public static let training = DataLabels(rawValue: 1 << 2)
    /// A size, count or position derived from validation data (`len(val_tokens)`,
    /// `val_tokens.numel() // seq_len`, a batch index): no information about its content.
    public static let validationExtent = DataLabels(rawValue: 1 << 3)
    /// The model's input window: a sequence with its end dropped (`x = chunk[:-1]`). Every token
    /// of it is context, so its shifted slice (`x[..., 1:]`, paired with `x[..., :-1]` by
    /// BigramHash) is not the target.
    public static let inputWindow = DataLabels(rawValue: 1 << 4)
    /// Validation data that reaches a value only through a conditional expression under a
    /// feature off by default (`args.val_files if args.train_on_val else args.train_files`):
    /// whether it is used depends on the setting, which the rules resolve from the evidence.
    public static let gatedValidation = DataLabels(rawValue: 1 << 5)

    static let intrinsicMask: UInt64 = 0xff
    static let firstParameterBit = 8
    /// Parameters beyond this count share the last bit (of content, of extent, and of the
    /// tokens following a position).
    static let parameterBits = 18
    static let firstExtentParameterBit = firstParameterBit + parameterBits
    static let firstFollowingParameterBit = firstExtentParameterBit + parameterBits
    private static let parameterMask: UInt64 = (1 << UInt64(parameterBits)) - 1
    private static let contentParameterMask: UInt64 = parameterMask << UInt64(firstParameterBit)
    private static let extentParameterMask: UInt64 = parameterMask << UInt64(firstExtentParameterBit)

    /// The bit standing for the content of the function's parameter number `index`.
    public static func parameter(_ index: Int) -> DataLabels {
        DataLabels(rawValue: 1 << UInt64(firstParameterBit + min(index, parameterBits - 1)))
    }

    /// Validation content, used unconditionally or behind a default-off setting.
    public var mayHoldValidation: Bool { !intersection([.validation, .gatedValidation]).isEmpty }

    /// The data-kind bits, without parameter bits.
    public var intrinsic: DataLabels { DataLabels(rawValue: rawValue & Self.intrinsicMask) }

    /// The parameter indices whose content bits are set.
    public var parameters: [Int] { Self.indices(of: (rawValue & Self.contentParameterMask) >> UInt64(Self.firstParameterBit)) }

    /// The parameter indices whose extent bits are set.
    var extentParameters: [Int] { Self.indices(of: (rawValue & Self.extentParameterMask) >> UInt64(Self.firstExtentParameterBit)) }

    /// The parameter indices whose following-tokens bits are set.
    var followingParameters: [Int] { Self.indices(of: rawValue >> UInt64(Self.firstFollowingParameterBit)) }

    /// The bit standing for the tokens following a position in parameter number `index`
    /// (`stream[i + 1]`, `window[1:]` of a sequence passed in): the targets when the argument
    /// is a token sequence that is not an input window.
    static func followingTokens(ofParameter index: Int) -> DataLabels {
        DataLabels(rawValue: 1 << UInt64(firstFollowingParameterBit + min(index, parameterBits - 1)))
    }

    private static func indices(of bits: UInt64) -> [Int] {
        var result: [Int] = []
        var bits = bits
        var index = 0
        while bits != 0 {
            if bits & 1 == 1 { result.append(index) }
            bits >>= 1
            index += 1
        }
        return result
    }

    /// The labels of a size, count or position taken of a value with these labels: validation
    /// content becomes validation extent, parameter content becomes parameter extent, and
    /// targets or training data leave nothing.
    public var extent: DataLabels {
        var result: UInt64 = rawValue & Self.extentParameterMask
        result |= (rawValue & Self.contentParameterMask) << UInt64(Self.parameterBits)
        if contains(.validation) || contains(.validationExtent) || contains(.gatedValidation) {
            result |= Self.validationExtent.rawValue
        }
        return DataLabels(rawValue: result)
    }

    /// Replaces each parameter bit by the labels of the matching argument (its extent for an
    /// extent bit).
    public func substituting(_ arguments: [DataLabels]) -> DataLabels {
        var result = intrinsic
        for index in parameters where index < arguments.count { result.formUnion(arguments[index]) }
        for index in extentParameters where index < arguments.count { result.formUnion(arguments[index].extent) }
        for index in followingParameters where index < arguments.count {
            let argument = arguments[index]
            result.formUnion(argument.followingTokens)
        }
        return result
    }

    /// The labels of the tokens after a position taken from a value with these labels: the
    /// value itself, plus the target when it holds tokens (data of a known kind, not an input
    /// window), plus the following-tokens bits of the parameters it comes from.
    public var followingTokens: DataLabels {
        var result = self
        if !intrinsic.intersection([.validation, .gatedValidation, .training, .target]).isEmpty, !contains(.inputWindow) {
            result.insert(.target)
        }
        for index in parameters { result.formUnion(.followingTokens(ofParameter: index)) }
        return result
    }
}

/// How names and literals reveal data sources. Submissions follow the baseline's naming
/// (`val_tokens`, `val_files`, `fineweb_val_*.bin`, `y`/`targets`), which the rules rely on.
public enum DataSourceNames {
    /// Labels an identifier (a variable, parameter or attribute name) carries by itself.
    public static func labels(forIdentifier name: String) -> DataLabels {
        let lower = name.lowercased()
        var labels: DataLabels = []
        if validationIdentifiers.contains(lower) || lower.hasPrefix("val_token") || lower.hasPrefix("val_data")
            || lower.hasPrefix("val_file") || lower.hasPrefix("val_np") || lower.contains("fineweb_val") {
            labels.insert(.validation)
        }
        if targetIdentifiers.contains(lower) || lower.hasPrefix("tgt_") || lower.hasPrefix("target_tok") {
            labels.insert(.target)
        }
        if lower.hasPrefix("train_file") || lower.hasPrefix("train_token") || lower == "train_loader"
            || lower.contains("fineweb_train") {
            labels.insert(.training)
        }
        return labels
    }

    /// Labels a string literal carries (shard file patterns).
    public static func labels(forLiteral text: String) -> DataLabels {
        var labels: DataLabels = []
        if text.contains("fineweb_val") || text.contains("_val_0") { labels.insert(.validation) }
        if text.contains("fineweb_train") { labels.insert(.training) }
        return labels
    }

    static let validationIdentifiers: Set<String> = [
        "val_tokens", "val_data", "val_files", "val_ids", "val_seq", "val_np", "val_stream",
        "val_buf", "val_arr", "valid_tokens", "validation_tokens", "eval_tokens",
    ]

    static let targetIdentifiers: Set<String> = [
        "y", "yb", "y_batch", "targets", "target", "target_ids", "tgt", "tgts", "target_tokens",
        "labels", "next_token", "next_tokens", "tok_next", "y_true",
    ]
}
