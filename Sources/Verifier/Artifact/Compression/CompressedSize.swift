import CLZMA

/// How small a script compresses: the size of its raw LZMA2 stream (preset 9, as Python's `lzma.compress`
/// with `FORMAT_RAW` and `FILTER_LZMA2` writes it, the form self-extracting code wrappers use).
/// The size check uses it to tell a code figure that counts a compressed copy of the shipped script from a
/// figure of some other code.
public enum CompressedSize {
    /// Inputs larger than this are not compressed (a script this large is over the cap in any form).
    public static let maximumInput = 16_000_000
    // liblzma's macros built with UINT64_C do not import into Swift: their values from lzma/lzma12.h and vli.h.
    private static let filterLZMA2: lzma_vli = 0x21
    private static let filterListEnd: lzma_vli = .max
    private static let smallestDictionary = 4096

    /// The LZMA2 size of `bytes`, or nil when the input is empty, too large, or the encoder fails.
    public static func lzma2(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty, bytes.count <= maximumInput else { return nil }
        var options = lzma_options_lzma()
        guard lzma_lzma_preset(&options, 9) == 0 else { return nil }
        // The dictionary need not exceed the input: the output is the same and the encoder's memory stays small.
        options.dict_size = UInt32(max(smallestDictionary, min(bytes.count, Int(options.dict_size))))
        let capacity = bytes.count + bytes.count / 16 + 4096
        var output = [UInt8](repeating: 0, count: capacity)
        var written = 0
        let status: lzma_ret = withUnsafeMutablePointer(to: &options) { optionsPointer in
            var filters = [
                lzma_filter(id: filterLZMA2, options: UnsafeMutableRawPointer(optionsPointer)),
                lzma_filter(id: filterListEnd, options: nil),
            ]
            return bytes.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    lzma_raw_buffer_encode(&filters, nil, input.baseAddress, input.count, out.baseAddress, &written, out.count)
                }
            }
        }
        return status == LZMA_OK ? written : nil
    }
}
