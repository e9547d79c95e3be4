//! A job's `report.md` as HTML for its page. The report holds model output and user text, so
//! the HTML is sanitised (ammonia's allow-list: no scripts, no handlers, no styles; links get
//! `rel="noopener noreferrer"`) after Markdown is rendered, and raw HTML in the Markdown is shown
//! as text rather than passed through.

use pulldown_cmark::{Event, Options, Parser, html};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::state::AppState;

/// Reports are a few KB; a bigger file is linked, not rendered, so one page stays cheap.
const MAX_RENDERED_BYTES: u64 = 512 * 1024;

pub enum Report {
    Html(String),
    TooLarge(u64),
}

/// The job's rendered report, if it has one (the caller has checked the job is visible).
pub async fn load(state: &AppState, id: Uuid) -> Option<Report> {
    let (file, len) = crate::routes::jobs::artifacts::open(state, id, "report.md").await.ok()?;
    if len > MAX_RENDERED_BYTES {
        return Some(Report::TooLarge(len));
    }
    let mut text = String::with_capacity(len as usize);
    file.take(MAX_RENDERED_BYTES).read_to_string(&mut text).await.ok()?;
    Some(Report::Html(to_html(&text)))
}

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Raw HTML becomes text: the sanitiser would drop what is dangerous, but a report that
    // quotes `<script>` should show it, not lose it.
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    ammonia::clean(&unsafe_html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_markup_in_it_stays_text() {
        let html = to_html(
            "# Review\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n\
             text <img src=x onerror=alert(2)> [link](javascript:alert(3))",
        );
        assert!(html.contains("<h1>Review</h1>") && html.contains("<td>1</td>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("<img") && !html.contains("javascript:")
        );
    }
}
