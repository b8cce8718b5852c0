//! Builds the reply tree of a thread page from flat rows.

use std::collections::HashMap;

use super::comment::{Comment, CommentId, CommentStatus};

/// A comment with its visible replies.
#[derive(Debug, Clone)]
pub struct Node {
    pub comment: Comment,
    pub replies: Vec<Node>,
}

/// Nests `comments` under their parents. `roots` gives the top-level order; replies are sorted
/// oldest first. A deleted comment stays only as long as something visible hangs below it.
/// Comments whose parent is not in `comments` are dropped (their parent is hidden).
pub fn build(roots: &[CommentId], comments: Vec<Comment>) -> Vec<Node> {
    let mut children: HashMap<CommentId, Vec<Comment>> = HashMap::new();
    let mut by_id: HashMap<CommentId, Comment> = HashMap::new();
    for comment in comments {
        match comment.parent_id {
            Some(parent) => children.entry(parent).or_default().push(comment),
            None => {
                by_id.insert(comment.id, comment);
            }
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|c| (c.created_at, c.id));
    }
    roots
        .iter()
        .filter_map(|id| by_id.remove(id))
        .filter_map(|root| attach(root, &mut children))
        .collect()
}

fn attach(comment: Comment, children: &mut HashMap<CommentId, Vec<Comment>>) -> Option<Node> {
    let replies: Vec<Node> = children
        .remove(&comment.id)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|child| attach(child, children))
        .collect();
    if comment.status == CommentStatus::Deleted && replies.is_empty() {
        return None;
    }
    Some(Node { comment, replies })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::thread::ThreadId;
    use crate::render::SafeHtml;
    use chrono::{TimeZone, Utc};

    fn comment(id: i64, parent: Option<i64>, status: CommentStatus) -> Comment {
        Comment {
            id: CommentId(id),
            thread_id: ThreadId(1),
            parent_id: parent.map(CommentId),
            root_id: None,
            depth: 0,
            author: String::new(),
            email: None,
            website: None,
            body_markdown: String::new(),
            body_html: SafeHtml::empty(),
            status,
            held_reason: None,
            created_at: Utc.timestamp_opt(id, 0).unwrap(),
            edited_at: None,
            like_count: 0,
            pinned: false,
            owner: false,
            kind: Default::default(),
            body_format: Default::default(),
            client_ip: None,
            user_agent: None,
            notify_replies: false,
            import_key: None,
            reader_id: None,
            signed_in_with: None,
        }
    }

    #[test]
    fn replies_nest_in_time_order_and_deleted_leaves_vanish() {
        use CommentStatus::*;
        let rows = vec![
            comment(1, None, Approved),
            comment(4, Some(1), Approved),
            comment(2, Some(1), Approved),
            comment(3, Some(2), Deleted),
            comment(5, None, Deleted),
            comment(6, None, Deleted),
            comment(7, Some(6), Approved),
        ];
        let tree = build(&[CommentId(6), CommentId(5), CommentId(1)], rows);
        let ids: Vec<i64> = tree.iter().map(|n| n.comment.id.0).collect();
        assert_eq!(ids, vec![6, 1]);
        let replies: Vec<i64> = tree[1].replies.iter().map(|n| n.comment.id.0).collect();
        assert_eq!(replies, vec![2, 4]);
        assert!(tree[1].replies[0].replies.is_empty());
    }
}
