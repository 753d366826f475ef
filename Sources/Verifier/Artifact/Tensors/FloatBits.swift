/// Exact conversions between float32 and the narrow float formats, matching PyTorch's CPU casts
/// bit for bit (round to nearest even; PyTorch's canonical NaNs).
public enum FloatBits {
    /// IEEE half → float32 (exact: every half is a float32).
    public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24, exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    /// float32 → IEEE half, round to nearest even; overflow gives infinity, NaN becomes the quiet NaN
    /// `0x7E00` with the sign kept (as c10::Half does).
    public static func floatToHalf(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {  // inf or NaN
            return sign | (magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00)
        }
        if magnitude >= 0x477F_F000 { return sign | 0x7C00 }  // rounds to >= 65520: infinity
        if magnitude < 0x3880_0000 {
            // Result is subnormal (or zero): value / 2^-24 rounded to nearest even.
            let value = Float(bitPattern: magnitude) * 0x1p24
            let rounded = value.rounded(.toNearestOrEven)
            return sign | UInt16(rounded)
        }
        // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even.
        let rebased = magnitude - (112 << 23)
        let lsb = (rebased >> 13) & 1
        let rounded = (rebased + 0xFFF + lsb) >> 13
        return sign | UInt16(rounded)
    }

    /// bfloat16 → float32 (exact).
    public static func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// float32 → bfloat16 as PyTorch rounds (`c10::BFloat16`): nearest even, NaN → 0x7FC0.
    public static func floatToBFloat16(_ f: Float) -> UInt16 {
        if f.isNaN { return 0x7FC0 }
        let bits = f.bitPattern
        let bias = ((bits >> 16) & 1) + 0x7FFF
        return UInt16(truncatingIfNeeded: (bits &+ bias) >> 16)
    }

    /// float8 e4m3fn (no infinities, NaN = S.1111.111) → float32 (exact).
    public static func e4m3fnToFloat(_ v: UInt8) -> Float {
        let negative = v & 0x80 != 0
        let exponent = Int((v >> 3) & 0x0F)
        let mantissa = Int(v & 0x07)
        let magnitude: Float
        if exponent == 0x0F && mantissa == 0x07 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-9
        } else {
            magnitude = Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 10, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
