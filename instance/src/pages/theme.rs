//! How the hosted pages look, from the instance's `branding`: its primary colour on the
//! buttons (with black or white text, whichever contrasts more: one of them always reaches
//! 4.5:1), on links where it contrasts enough with the page (WCAG AA), its logo, and a light,
//! dark or system-following appearance. The stylesheet is inline and allowed by its hash in
//! the Content-Security-Policy, so it changes with the configuration and nothing else runs.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::config::{Appearance, Branding};

const LAYOUT: &str = "\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);\
font-family:system-ui,-apple-system,'Segoe UI',sans-serif}\
main{width:min(26rem,92vw);padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:12px}\
.logo{display:block;max-height:3rem;max-width:12rem;margin:0 0 1rem}\
h1{font-size:1.4rem;margin:0 0 1rem}p{line-height:1.5}a{color:var(--link)}\
label{display:block;font-weight:600;margin:1rem 0 .3rem}\
input{box-sizing:border-box;width:100%;padding:.6rem;font:inherit;color:var(--fg);background:var(--card);\
border:1px solid var(--field);border-radius:6px}\
button{margin-top:1.2rem;padding:.65rem 1.1rem;font:inherit;font-weight:600;border:0;border-radius:6px;\
background:var(--primary);color:var(--on-primary);cursor:pointer}\
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--focus);outline-offset:2px}\
.error{padding:.6rem .8rem;border-radius:6px;background:var(--error-bg);color:var(--error-fg)}\
.hint{color:var(--muted);font-size:.95rem}\
button .hint{color:inherit}";

/// The colours of one appearance: page, card, text, muted text, borders, focus, errors.
struct Palette {
    scheme: &'static str,
    bg: &'static str,
    card: (u8, u8, u8),
    fg: &'static str,
    muted: &'static str,
    border: &'static str,
    field: &'static str,
    focus: &'static str,
    error_bg: &'static str,
    error_fg: &'static str,
}

const LIGHT: Palette = Palette {
    scheme: "light",
    bg: "#f1f5f9",
    card: (0xff, 0xff, 0xff),
    fg: "#0f172a",
    muted: "#475569",
    border: "#cbd5e1",
    field: "#64748b",
    focus: "#b45309",
    error_bg: "#fde8e8",
    error_fg: "#7f1d1d",
};

const DARK: Palette = Palette {
    scheme: "dark",
    bg: "#020617",
    card: (0x1e, 0x29, 0x3b),
    fg: "#f1f5f9",
    muted: "#cbd5e1",
    border: "#475569",
    field: "#94a3b8",
    focus: "#fbbf24",
    error_bg: "#450a0a",
    error_fg: "#fecaca",
};

/// The pages' look for one configuration.
#[derive(Debug, Clone)]
pub struct Theme {
    style: String,
    logo: Option<Logo>,
}

#[derive(Debug, Clone)]
struct Logo {
    url: String,
    origin: String,
}

impl Theme {
    pub fn new(branding: &Branding) -> Theme {
        let primary = parse_hex(&branding.primary_color).unwrap_or((0x4f, 0x46, 0xe5));
        let style = match branding.appearance {
            Appearance::Light => format!(":root{{{}}}{LAYOUT}", variables(&LIGHT, primary)),
            Appearance::Dark => format!(":root{{{}}}{LAYOUT}", variables(&DARK, primary)),
            Appearance::Auto => format!(
                ":root{{{}}}@media (prefers-color-scheme: dark){{:root{{{}}}}}{LAYOUT}",
                variables(&LIGHT, primary),
                variables(&DARK, primary)
            ),
        };
        let logo = branding.logo_url.as_ref().and_then(|url| {
            let origin = url::Url::parse(url).ok()?.origin().ascii_serialization();
            (origin != "null").then(|| Logo {
                url: url.clone(),
                origin,
            })
        });
        Theme { style, logo }
    }

    pub fn style(&self) -> &str {
        &self.style
    }

    /// The `style-src` source that allows exactly this stylesheet.
    pub fn style_source(&self) -> String {
        let hash = Sha256::digest(self.style.as_bytes());
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(hash)
        )
    }

    /// The `img-src` sources: the instance, and the logo's origin.
    pub fn image_sources(&self) -> String {
        match &self.logo {
            Some(logo) => format!("'self' {}", logo.origin),
            None => "'self'".to_owned(),
        }
    }

    /// The logo's `<img>`, described by the product's name; nothing without a logo.
    pub fn logo_html(&self, product: &str) -> String {
        match &self.logo {
            Some(logo) => format!(
                "<img class=\"logo\" src=\"{}\" alt=\"{}\">",
                super::escape(&logo.url),
                super::escape(product)
            ),
            None => String::new(),
        }
    }
}

fn variables(palette: &Palette, primary: (u8, u8, u8)) -> String {
    let (white, black) = ((0xff, 0xff, 0xff), (0, 0, 0));
    let on_primary = if contrast(primary, white) >= contrast(primary, black) {
        "#ffffff"
    } else {
        "#000000"
    };
    let link = if contrast(primary, palette.card) >= 4.5 {
        hex(primary)
    } else {
        palette.fg.to_owned()
    };
    format!(
        "color-scheme:{};--bg:{};--card:{};--fg:{};--muted:{};--border:{};--field:{};--focus:{};\
         --error-bg:{};--error-fg:{};--primary:{};--on-primary:{on_primary};--link:{link}",
        palette.scheme,
        palette.bg,
        hex(palette.card),
        palette.fg,
        palette.muted,
        palette.border,
        palette.field,
        palette.focus,
        palette.error_bg,
        palette.error_fg,
        hex(primary),
    )
}

fn parse_hex(color: &str) -> Option<(u8, u8, u8)> {
    let digits = color.strip_prefix('#')?;
    if digits.len() != 6 {
        return None;
    }
    let channel = |at: usize| u8::from_str_radix(digits.get(at..at + 2)?, 16).ok();
    Some((channel(0)?, channel(2)?, channel(4)?))
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// WCAG 2 relative luminance.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio, 1 to 21.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme(color: &str, appearance: Appearance) -> Theme {
        Theme::new(&Branding {
            primary_color: color.into(),
            logo_url: Some("https://cdn.example.com/logo.svg".into()),
            appearance,
        })
    }

    #[test]
    fn button_text_always_contrasts_with_the_primary_colour() {
        for color in [
            "#4f46e5", "#ffff00", "#777777", "#000000", "#ffffff", "#0ea5e9",
        ] {
            let rgb = parse_hex(color).expect("hex");
            let best = contrast(rgb, (255, 255, 255)).max(contrast(rgb, (0, 0, 0)));
            assert!(best >= 4.5, "{color}: {best}");
        }
        assert!(
            theme("#ffff00", Appearance::Light)
                .style()
                .contains("--on-primary:#000000")
        );
        assert!(
            theme("#4f46e5", Appearance::Light)
                .style()
                .contains("--on-primary:#ffffff")
        );
    }

    #[test]
    fn links_take_the_primary_colour_only_where_it_is_readable() {
        // Yellow on white is unreadable: links keep the text colour.
        assert!(
            theme("#ffff00", Appearance::Light)
                .style()
                .contains("--link:#0f172a")
        );
        assert!(
            theme("#ffff00", Appearance::Dark)
                .style()
                .contains("--link:#ffff00")
        );
        assert!(
            theme("#3730a3", Appearance::Light)
                .style()
                .contains("--link:#3730a3")
        );
    }

    #[test]
    fn the_policy_names_this_stylesheet_and_the_logo_origin() {
        let light = theme("#4f46e5", Appearance::Light);
        let auto = theme("#4f46e5", Appearance::Auto);
        assert_ne!(light.style_source(), auto.style_source());
        assert!(auto.style().contains("prefers-color-scheme: dark"));
        assert_eq!(light.image_sources(), "'self' https://cdn.example.com");
        assert!(light.logo_html("Acme").contains("alt=\"Acme\""));
    }
}
