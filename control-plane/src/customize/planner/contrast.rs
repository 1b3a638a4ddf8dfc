//! WCAG 2.x contrast: the sign-in components draw white text on the primary colour, which
//! must reach 4.5:1 (level AA for normal text) to be readable.

/// The WCAG AA minimum for normal text.
pub const AA: f64 = 4.5;

/// The contrast ratio of white text on `#rrggbb` (`None` for anything else).
pub fn on_white_text(hex: &str) -> Option<f64> {
    let background = luminance(hex)?;
    Some((1.0 + 0.05) / (background + 0.05))
}

/// A warning when white text on `hex` misses AA, naming the ratio.
pub fn warning(hex: &str) -> Option<String> {
    let ratio = on_white_text(hex)?;
    (ratio < AA).then(|| {
        format!(
            "White button text on {hex} has a contrast of {:.2}:1, below the 4.5:1 WCAG AA \
             minimum: pick a darker shade so that buttons stay readable.",
            (ratio * 100.0).floor() / 100.0
        )
    })
}

fn luminance(hex: &str) -> Option<f64> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |at: usize| -> Option<f64> {
        let value = f64::from(u8::from_str_radix(digits.get(at..at + 2)?, 16).ok()?) / 255.0;
        Some(if value <= 0.04045 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_match_the_wcag_formula() {
        let indigo = on_white_text("#6366f1").expect("hex");
        assert!((indigo - 4.47).abs() < 0.01, "{indigo}");
        assert!(warning("#6366f1").expect("fails AA").contains("4.46:1"));
        assert!((on_white_text("#000000").expect("hex") - 21.0).abs() < 1e-9);
        assert!(warning("#4338ca").is_none());
        assert!(warning("#ffff00").is_some());
        assert_eq!(on_white_text("blue"), None);
    }
}
