//! A generated WXR file: `n` comments on pages of 100, every third one a reply to the one
//! before. Shared by the benches and the 100,000-comment integration test.

use std::fmt::Write as _;

/// The WXR bytes of `n` generated comments.
pub fn big_wxr(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 700);
    s.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>",
    );
    let per_item = 100;
    for item in 0..n.div_ceil(per_item) {
        let _ = write!(
            s,
            "<item><title>Post {item}</title><link>https://example.com/p/{item}/</link>"
        );
        for j in 0..per_item.min(n - item * per_item) {
            let id = item * per_item + j + 1;
            let parent = if j % 3 == 2 { id - 1 } else { 0 };
            let _ = write!(
                s,
                "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[Author {id}]]></wp:comment_author>\
                 <wp:comment_author_email>a{id}@example.com</wp:comment_author_email><wp:comment_author_url>https://example.com/</wp:comment_author_url>\
                 <wp:comment_author_IP>192.0.2.1</wp:comment_author_IP><wp:comment_date>2020-01-01 10:00:00</wp:comment_date>\
                 <wp:comment_date_gmt>2020-01-01 09:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[<p>Comment {id} with a few words of text, as comments have.</p>]]></wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
            );
        }
        s.push_str("</item>");
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}
