/// A dense, contiguous, row-major float32 tensor: the currency between dequantizers and the
/// reference model.
///
/// Kept deliberately plain (a shape and a flat array) so every producer — artifact readers,
/// dequantizers, golden loaders — can build one without knowing the model.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first. A scalar has shape `[]` and one element.
    public private(set) var shape: [Int]
    /// Elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]

    /// Creates a tensor; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) throws(ShapeError) {
        let count = try Tensor.elementCount(shape)
        guard data.count == count else {
            throw ShapeError(message: "\(data.count) values do not fill shape \(shape) (\(count) elements)")
        }
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) throws(ShapeError) {
        try self.init(shape: shape, data: [Float](repeating: 0, count: Tensor.elementCount(shape)))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// The product of `shape`, refusing negative dimensions and overflow.
    public static func elementCount(_ shape: [Int]) throws(ShapeError) -> Int {
        var count = 1
        for dim in shape {
            guard dim >= 0 else { throw ShapeError(message: "negative dimension in shape \(shape)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw ShapeError(message: "shape \(shape) overflows the element count") }
            count = product
        }
        return count
    }
}

/// A shape that does not fit its data or its use.
public struct ShapeError: InputError, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "shape mismatch: \(message)" }
}

/// Named float32 weights, as a dequantizer produces them and the reference model consumes them.
public typealias Weights = [String: Tensor]
