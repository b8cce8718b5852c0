//! Mail texts: one layout (plain text and HTML, compiled in with askama) filled per kind, in
//! the site's language. A `templates_dir` may replace the layout (see `overrides`).

use askama::Template;

use crate::render::SafeHtml;

/// A quoted comment in a mail.
#[derive(Debug, Clone)]
pub struct Quoted {
    pub author: String,
    /// The comment's markdown source, for the plain-text part.
    pub text: String,
    /// The comment's sanitized HTML.
    pub html: SafeHtml,
}

/// Everything a mail shows; every string is plain text (escaped in the HTML part).
#[derive(Debug, Clone, Default)]
pub struct MailView {
    pub lang: String,
    pub site: String,
    pub subject: String,
    pub heading: String,
    pub intro: Vec<String>,
    pub comment: Option<Quoted>,
    pub facts: Vec<(String, String)>,
    pub actions: Vec<(String, String)>,
    pub footer: String,
    pub unsubscribe: Option<(String, String)>,
}

/// A rendered mail.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt", config = "src/templates/askama.toml")]
struct TextMail<'a> {
    m: &'a MailView,
}

#[derive(Template)]
#[template(path = "mail/message.html", config = "src/templates/askama.toml")]
struct HtmlMail<'a> {
    m: &'a MailView,
}

impl MailView {
    /// Renders both parts with the built-in layout, or the override folder's when given.
    pub fn render(&self, overrides: Option<&std::path::Path>) -> Result<Rendered, String> {
        if let Some(dir) = overrides
            && let Some(rendered) = super::overrides::render(dir, self)?
        {
            return Ok(rendered);
        }
        let text = TextMail { m: self }.render().map_err(|e| e.to_string())?;
        let html = HtmlMail { m: self }.render().map_err(|e| e.to_string())?;
        Ok(Rendered {
            subject: self.subject.clone(),
            text,
            html,
        })
    }
}

/// The words of the mails in one language. `{author}`, `{title}`, `{site}` and `{days}` are
/// filled in; everything is plain text.
#[derive(Debug)]
pub struct Strings {
    pub reply_subject: &'static str,
    pub reply_intro: &'static str,
    pub reply_footer: &'static str,
    pub thread_subject: &'static str,
    pub thread_intro: &'static str,
    pub thread_footer: &'static str,
    pub view_comment: &'static str,
    pub unsubscribe_thread: &'static str,
    pub unsubscribe_all: &'static str,
    pub confirm_subject: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_action: &'static str,
    pub confirm_footer: &'static str,
    pub owner_subject_new: &'static str,
    pub owner_subject_held: &'static str,
    pub owner_intro: &'static str,
    pub owner_footer: &'static str,
    pub page: &'static str,
    pub status: &'static str,
    pub status_pending: &'static str,
    pub status_approved: &'static str,
    pub why_held: &'static str,
    pub website: &'static str,
    pub approve: &'static str,
    pub delete: &'static str,
    pub spam: &'static str,
    pub ban: &'static str,
    pub manage_subject: &'static str,
    pub manage_intro: &'static str,
    pub manage_action: &'static str,
    pub manage_footer: &'static str,
}

static EN: Strings = Strings {
    reply_subject: "{author} replied to your comment on “{title}”",
    reply_intro: "{author} replied to your comment on “{title}”:",
    reply_footer: "You get this mail because you asked to be told about replies to your comment on {site}.",
    thread_subject: "New comment on “{title}”",
    thread_intro: "{author} commented on “{title}”:",
    thread_footer: "You get this mail because you subscribed to new comments on this page of {site}.",
    view_comment: "Read it on the page",
    unsubscribe_thread: "Stop mails about this page",
    unsubscribe_all: "Stop all mails from {site}",
    confirm_subject: "Please confirm notifications from {site}",
    confirm_intro: "Someone, hopefully you, asked {site} to send mail to this address about new comments. Nothing will be sent until you confirm.",
    confirm_action: "Yes, send me notifications",
    confirm_footer: "If you did not ask for this, ignore this mail: you will not hear from us again. The link works for {days} days.",
    owner_subject_new: "New comment on “{title}” by {author}",
    owner_subject_held: "Held for moderation: comment on “{title}” by {author}",
    owner_intro: "{author} commented on “{title}”:",
    owner_footer: "You get this mail as the owner of {site}. Each link works once, for {days} days, and asks before it acts. To stop these mails, set mail.owner_notifications.",
    page: "Page",
    status: "Status",
    status_pending: "held for moderation",
    status_approved: "published",
    why_held: "Why held",
    website: "Website",
    approve: "Approve",
    delete: "Delete",
    spam: "Mark as spam",
    ban: "Ban the author",
    manage_subject: "Your comments on {site}",
    manage_intro: "Someone, hopefully you, asked for a link to see, delete or download the comments written with this address on {site}.",
    manage_action: "Manage my comments",
    manage_footer: "The link works for {days} days. If you did not ask for it, ignore this mail.",
};

static DE: Strings = Strings {
    reply_subject: "{author} hat auf Ihren Kommentar zu „{title}“ geantwortet",
    reply_intro: "{author} hat auf Ihren Kommentar zu „{title}“ geantwortet:",
    reply_footer: "Sie erhalten diese E-Mail, weil Sie über Antworten auf Ihren Kommentar bei {site} benachrichtigt werden wollten.",
    thread_subject: "Neuer Kommentar zu „{title}“",
    thread_intro: "{author} hat „{title}“ kommentiert:",
    thread_footer: "Sie erhalten diese E-Mail, weil Sie neue Kommentare auf dieser Seite von {site} abonniert haben.",
    view_comment: "Auf der Seite lesen",
    unsubscribe_thread: "Keine E-Mails mehr zu dieser Seite",
    unsubscribe_all: "Keine E-Mails mehr von {site}",
    confirm_subject: "Bitte bestätigen Sie die Benachrichtigungen von {site}",
    confirm_intro: "Jemand, hoffentlich Sie, hat {site} gebeten, an diese Adresse über neue Kommentare zu schreiben. Bis Sie bestätigen, wird nichts gesendet.",
    confirm_action: "Ja, Benachrichtigungen senden",
    confirm_footer: "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail. Der Link gilt {days} Tage.",
    owner_subject_new: "Neuer Kommentar zu „{title}“ von {author}",
    owner_subject_held: "Zur Moderation: Kommentar zu „{title}“ von {author}",
    owner_intro: "{author} hat „{title}“ kommentiert:",
    owner_footer: "Sie erhalten diese E-Mail als Betreiber von {site}. Jeder Link wirkt einmal, {days} Tage lang, und fragt vorher nach. Abschalten mit mail.owner_notifications.",
    page: "Seite",
    status: "Status",
    status_pending: "wartet auf Freigabe",
    status_approved: "veröffentlicht",
    why_held: "Grund",
    website: "Website",
    approve: "Freigeben",
    delete: "Löschen",
    spam: "Als Spam markieren",
    ban: "Autor sperren",
    manage_subject: "Ihre Kommentare bei {site}",
    manage_intro: "Jemand, hoffentlich Sie, hat einen Link angefordert, um die mit dieser Adresse geschriebenen Kommentare bei {site} zu sehen, zu löschen oder herunterzuladen.",
    manage_action: "Meine Kommentare verwalten",
    manage_footer: "Der Link gilt {days} Tage. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.",
};

static FR: Strings = Strings {
    reply_subject: "{author} a répondu à votre commentaire sur « {title} »",
    reply_intro: "{author} a répondu à votre commentaire sur « {title} » :",
    reply_footer: "Vous recevez ce message car vous avez demandé à être averti des réponses à votre commentaire sur {site}.",
    thread_subject: "Nouveau commentaire sur « {title} »",
    thread_intro: "{author} a commenté « {title} » :",
    thread_footer: "Vous recevez ce message car vous suivez les nouveaux commentaires de cette page de {site}.",
    view_comment: "Le lire sur la page",
    unsubscribe_thread: "Ne plus recevoir de messages sur cette page",
    unsubscribe_all: "Ne plus recevoir aucun message de {site}",
    confirm_subject: "Confirmez les notifications de {site}",
    confirm_intro: "Quelqu’un, vous sans doute, a demandé à {site} d’écrire à cette adresse au sujet des nouveaux commentaires. Rien ne sera envoyé avant votre confirmation.",
    confirm_action: "Oui, envoyez-moi les notifications",
    confirm_footer: "Si vous n’avez rien demandé, ignorez ce message. Le lien est valable {days} jours.",
    owner_subject_new: "Nouveau commentaire sur « {title} » par {author}",
    owner_subject_held: "En attente de modération : commentaire sur « {title} » par {author}",
    owner_intro: "{author} a commenté « {title} » :",
    owner_footer: "Vous recevez ce message en tant que propriétaire de {site}. Chaque lien sert une fois, pendant {days} jours, et demande confirmation. Pour arrêter : mail.owner_notifications.",
    page: "Page",
    status: "État",
    status_pending: "en attente de modération",
    status_approved: "publié",
    why_held: "Motif",
    website: "Site web",
    approve: "Approuver",
    delete: "Supprimer",
    spam: "Indésirable",
    ban: "Bannir l’auteur",
    manage_subject: "Vos commentaires sur {site}",
    manage_intro: "Quelqu’un, vous sans doute, a demandé un lien pour voir, supprimer ou télécharger les commentaires écrits avec cette adresse sur {site}.",
    manage_action: "Gérer mes commentaires",
    manage_footer: "Le lien est valable {days} jours. Si vous ne l’avez pas demandé, ignorez ce message.",
};

static ES: Strings = Strings {
    reply_subject: "{author} respondió a tu comentario en «{title}»",
    reply_intro: "{author} respondió a tu comentario en «{title}»:",
    reply_footer: "Recibes este correo porque pediste avisos de respuestas a tu comentario en {site}.",
    thread_subject: "Nuevo comentario en «{title}»",
    thread_intro: "{author} comentó en «{title}»:",
    thread_footer: "Recibes este correo porque te suscribiste a los nuevos comentarios de esta página de {site}.",
    view_comment: "Leerlo en la página",
    unsubscribe_thread: "No recibir más correos sobre esta página",
    unsubscribe_all: "No recibir más correos de {site}",
    confirm_subject: "Confirma los avisos de {site}",
    confirm_intro: "Alguien, esperamos que tú, pidió a {site} que escriba a esta dirección sobre nuevos comentarios. No se enviará nada hasta que lo confirmes.",
    confirm_action: "Sí, enviadme avisos",
    confirm_footer: "Si no lo pediste, ignora este correo. El enlace vale {days} días.",
    owner_subject_new: "Nuevo comentario en «{title}» de {author}",
    owner_subject_held: "Pendiente de moderación: comentario en «{title}» de {author}",
    owner_intro: "{author} comentó en «{title}»:",
    owner_footer: "Recibes este correo como propietario de {site}. Cada enlace funciona una vez, durante {days} días, y pide confirmación. Para dejar de recibirlos: mail.owner_notifications.",
    page: "Página",
    status: "Estado",
    status_pending: "pendiente de moderación",
    status_approved: "publicado",
    why_held: "Motivo",
    website: "Sitio web",
    approve: "Aprobar",
    delete: "Eliminar",
    spam: "Marcar como spam",
    ban: "Bloquear al autor",
    manage_subject: "Tus comentarios en {site}",
    manage_intro: "Alguien, esperamos que tú, pidió un enlace para ver, eliminar o descargar los comentarios escritos con esta dirección en {site}.",
    manage_action: "Gestionar mis comentarios",
    manage_footer: "El enlace vale {days} días. Si no lo pediste, ignora este correo.",
};

static PT: Strings = Strings {
    reply_subject: "{author} respondeu ao seu comentário em “{title}”",
    reply_intro: "{author} respondeu ao seu comentário em “{title}”:",
    reply_footer: "Você recebe este e-mail porque pediu avisos de respostas ao seu comentário em {site}.",
    thread_subject: "Novo comentário em “{title}”",
    thread_intro: "{author} comentou em “{title}”:",
    thread_footer: "Você recebe este e-mail porque assinou os novos comentários desta página de {site}.",
    view_comment: "Ler na página",
    unsubscribe_thread: "Parar e-mails sobre esta página",
    unsubscribe_all: "Parar todos os e-mails de {site}",
    confirm_subject: "Confirme os avisos de {site}",
    confirm_intro: "Alguém, esperamos que você, pediu a {site} para escrever a este endereço sobre novos comentários. Nada será enviado até você confirmar.",
    confirm_action: "Sim, enviar avisos",
    confirm_footer: "Se você não pediu isto, ignore este e-mail. O link vale por {days} dias.",
    owner_subject_new: "Novo comentário em “{title}” de {author}",
    owner_subject_held: "Aguardando moderação: comentário em “{title}” de {author}",
    owner_intro: "{author} comentou em “{title}”:",
    owner_footer: "Você recebe este e-mail como dono de {site}. Cada link funciona uma vez, por {days} dias, e pede confirmação. Para parar: mail.owner_notifications.",
    page: "Página",
    status: "Estado",
    status_pending: "aguardando moderação",
    status_approved: "publicado",
    why_held: "Motivo",
    website: "Site",
    approve: "Aprovar",
    delete: "Excluir",
    spam: "Marcar como spam",
    ban: "Banir o autor",
    manage_subject: "Seus comentários em {site}",
    manage_intro: "Alguém, esperamos que você, pediu um link para ver, excluir ou baixar os comentários escritos com este endereço em {site}.",
    manage_action: "Gerenciar meus comentários",
    manage_footer: "O link vale por {days} dias. Se você não o pediu, ignore este e-mail.",
};

static IT: Strings = Strings {
    reply_subject: "{author} ha risposto al tuo commento su «{title}»",
    reply_intro: "{author} ha risposto al tuo commento su «{title}»:",
    reply_footer: "Ricevi questa e-mail perché hai chiesto di essere avvisato delle risposte al tuo commento su {site}.",
    thread_subject: "Nuovo commento su «{title}»",
    thread_intro: "{author} ha commentato «{title}»:",
    thread_footer: "Ricevi questa e-mail perché segui i nuovi commenti di questa pagina di {site}.",
    view_comment: "Leggilo sulla pagina",
    unsubscribe_thread: "Basta e-mail su questa pagina",
    unsubscribe_all: "Basta e-mail da {site}",
    confirm_subject: "Conferma gli avvisi di {site}",
    confirm_intro: "Qualcuno, speriamo tu, ha chiesto a {site} di scrivere a questo indirizzo sui nuovi commenti. Non verrà inviato nulla finché non confermi.",
    confirm_action: "Sì, inviatemi gli avvisi",
    confirm_footer: "Se non l’hai chiesto, ignora questa e-mail. Il link vale {days} giorni.",
    owner_subject_new: "Nuovo commento su «{title}» di {author}",
    owner_subject_held: "In attesa di moderazione: commento su «{title}» di {author}",
    owner_intro: "{author} ha commentato «{title}»:",
    owner_footer: "Ricevi questa e-mail come proprietario di {site}. Ogni link funziona una volta, per {days} giorni, e chiede conferma. Per smettere: mail.owner_notifications.",
    page: "Pagina",
    status: "Stato",
    status_pending: "in attesa di moderazione",
    status_approved: "pubblicato",
    why_held: "Motivo",
    website: "Sito web",
    approve: "Approva",
    delete: "Elimina",
    spam: "Segna come spam",
    ban: "Blocca l’autore",
    manage_subject: "I tuoi commenti su {site}",
    manage_intro: "Qualcuno, speriamo tu, ha chiesto un link per vedere, eliminare o scaricare i commenti scritti con questo indirizzo su {site}.",
    manage_action: "Gestisci i miei commenti",
    manage_footer: "Il link vale {days} giorni. Se non l’hai chiesto, ignora questa e-mail.",
};

static NL: Strings = Strings {
    reply_subject: "{author} heeft gereageerd op je reactie bij ‘{title}’",
    reply_intro: "{author} heeft gereageerd op je reactie bij ‘{title}’:",
    reply_footer: "Je krijgt deze mail omdat je wilde horen over antwoorden op je reactie bij {site}.",
    thread_subject: "Nieuwe reactie bij ‘{title}’",
    thread_intro: "{author} reageerde op ‘{title}’:",
    thread_footer: "Je krijgt deze mail omdat je nieuwe reacties op deze pagina van {site} volgt.",
    view_comment: "Lees het op de pagina",
    unsubscribe_thread: "Geen mails meer over deze pagina",
    unsubscribe_all: "Geen mails meer van {site}",
    confirm_subject: "Bevestig meldingen van {site}",
    confirm_intro: "Iemand, hopelijk jij, vroeg {site} om dit adres te mailen over nieuwe reacties. Er wordt niets verstuurd tot je bevestigt.",
    confirm_action: "Ja, stuur me meldingen",
    confirm_footer: "Heb je hier niet om gevraagd, negeer deze mail dan. De link is {days} dagen geldig.",
    owner_subject_new: "Nieuwe reactie bij ‘{title}’ van {author}",
    owner_subject_held: "Wacht op moderatie: reactie bij ‘{title}’ van {author}",
    owner_intro: "{author} reageerde op ‘{title}’:",
    owner_footer: "Je krijgt deze mail als eigenaar van {site}. Elke link werkt één keer, {days} dagen lang, en vraagt eerst om bevestiging. Stoppen: mail.owner_notifications.",
    page: "Pagina",
    status: "Status",
    status_pending: "wacht op moderatie",
    status_approved: "gepubliceerd",
    why_held: "Reden",
    website: "Website",
    approve: "Goedkeuren",
    delete: "Verwijderen",
    spam: "Markeren als spam",
    ban: "Auteur blokkeren",
    manage_subject: "Je reacties bij {site}",
    manage_intro: "Iemand, hopelijk jij, vroeg om een link om de reacties die met dit adres bij {site} zijn geschreven te bekijken, te verwijderen of te downloaden.",
    manage_action: "Mijn reacties beheren",
    manage_footer: "De link is {days} dagen geldig. Heb je er niet om gevraagd, negeer deze mail dan.",
};

static PL: Strings = Strings {
    reply_subject: "{author} odpowiedział(a) na Twój komentarz pod „{title}”",
    reply_intro: "{author} odpowiedział(a) na Twój komentarz pod „{title}”:",
    reply_footer: "Otrzymujesz tę wiadomość, bo prosiłeś(-aś) o powiadomienia o odpowiedziach na Twój komentarz w {site}.",
    thread_subject: "Nowy komentarz pod „{title}”",
    thread_intro: "{author} skomentował(a) „{title}”:",
    thread_footer: "Otrzymujesz tę wiadomość, bo obserwujesz nowe komentarze na tej stronie {site}.",
    view_comment: "Przeczytaj na stronie",
    unsubscribe_thread: "Nie wysyłaj wiadomości o tej stronie",
    unsubscribe_all: "Nie wysyłaj żadnych wiadomości z {site}",
    confirm_subject: "Potwierdź powiadomienia z {site}",
    confirm_intro: "Ktoś, mamy nadzieję, że Ty, poprosił {site} o wiadomości o nowych komentarzach na ten adres. Nic nie zostanie wysłane, dopóki tego nie potwierdzisz.",
    confirm_action: "Tak, wysyłaj powiadomienia",
    confirm_footer: "Jeśli to nie Ty, zignoruj tę wiadomość. Link jest ważny {days} dni.",
    owner_subject_new: "Nowy komentarz pod „{title}” od {author}",
    owner_subject_held: "Czeka na moderację: komentarz pod „{title}” od {author}",
    owner_intro: "{author} skomentował(a) „{title}”:",
    owner_footer: "Otrzymujesz tę wiadomość jako właściciel {site}. Każdy link działa raz, przez {days} dni, i prosi o potwierdzenie. Wyłączenie: mail.owner_notifications.",
    page: "Strona",
    status: "Stan",
    status_pending: "czeka na moderację",
    status_approved: "opublikowany",
    why_held: "Powód",
    website: "Strona WWW",
    approve: "Zatwierdź",
    delete: "Usuń",
    spam: "Oznacz jako spam",
    ban: "Zablokuj autora",
    manage_subject: "Twoje komentarze w {site}",
    manage_intro: "Ktoś, mamy nadzieję, że Ty, poprosił o link do przeglądania, usuwania i pobierania komentarzy napisanych z tego adresu w {site}.",
    manage_action: "Zarządzaj moimi komentarzami",
    manage_footer: "Link jest ważny {days} dni. Jeśli to nie Ty, zignoruj tę wiadomość.",
};

static JA: Strings = Strings {
    reply_subject: "{author}さんが「{title}」のあなたのコメントに返信しました",
    reply_intro: "{author}さんが「{title}」のあなたのコメントに返信しました：",
    reply_footer: "{site}でのコメントへの返信通知を希望されたため、このメールをお送りしています。",
    thread_subject: "「{title}」に新しいコメント",
    thread_intro: "{author}さんが「{title}」にコメントしました：",
    thread_footer: "{site}のこのページの新しいコメントを購読しているため、このメールをお送りしています。",
    view_comment: "ページで読む",
    unsubscribe_thread: "このページに関するメールを停止",
    unsubscribe_all: "{site}からのメールをすべて停止",
    confirm_subject: "{site}からの通知を確認してください",
    confirm_intro: "どなたか（おそらくあなた）が、新しいコメントについてこのアドレスにメールを送るよう{site}に依頼しました。確認されるまで何も送信されません。",
    confirm_action: "はい、通知を受け取ります",
    confirm_footer: "心当たりがない場合は、このメールを無視してください。リンクの有効期限は{days}日です。",
    owner_subject_new: "「{title}」に{author}さんから新しいコメント",
    owner_subject_held: "承認待ち：「{title}」への{author}さんのコメント",
    owner_intro: "{author}さんが「{title}」にコメントしました：",
    owner_footer: "{site}の管理者としてこのメールをお送りしています。各リンクは{days}日間、一度だけ使え、実行前に確認します。停止するには mail.owner_notifications を設定してください。",
    page: "ページ",
    status: "状態",
    status_pending: "承認待ち",
    status_approved: "公開済み",
    why_held: "保留の理由",
    website: "ウェブサイト",
    approve: "承認",
    delete: "削除",
    spam: "スパムとしてマーク",
    ban: "投稿者を禁止",
    manage_subject: "{site}でのあなたのコメント",
    manage_intro: "どなたか（おそらくあなた）が、{site}でこのアドレスを使って書かれたコメントを表示・削除・ダウンロードするためのリンクを依頼しました。",
    manage_action: "自分のコメントを管理",
    manage_footer: "リンクの有効期限は{days}日です。心当たりがない場合は、このメールを無視してください。",
};

static ZH: Strings = Strings {
    reply_subject: "{author} 回复了你在“{title}”下的评论",
    reply_intro: "{author} 回复了你在“{title}”下的评论：",
    reply_footer: "你收到这封邮件，是因为你在 {site} 要求接收评论回复通知。",
    thread_subject: "“{title}”有新评论",
    thread_intro: "{author} 评论了“{title}”：",
    thread_footer: "你收到这封邮件，是因为你订阅了 {site} 这个页面的新评论。",
    view_comment: "在页面上阅读",
    unsubscribe_thread: "不再接收关于此页面的邮件",
    unsubscribe_all: "不再接收来自 {site} 的任何邮件",
    confirm_subject: "请确认来自 {site} 的通知",
    confirm_intro: "有人（希望是你）请求 {site} 向此地址发送新评论通知。在你确认之前，我们不会发送任何邮件。",
    confirm_action: "是的，给我发送通知",
    confirm_footer: "如果这不是你的请求，请忽略此邮件。链接在 {days} 天内有效。",
    owner_subject_new: "“{title}”有来自 {author} 的新评论",
    owner_subject_held: "待审核：{author} 在“{title}”下的评论",
    owner_intro: "{author} 评论了“{title}”：",
    owner_footer: "你作为 {site} 的所有者收到这封邮件。每个链接只能使用一次，{days} 天内有效，执行前会先确认。要停止此类邮件，请设置 mail.owner_notifications。",
    page: "页面",
    status: "状态",
    status_pending: "待审核",
    status_approved: "已发布",
    why_held: "待审原因",
    website: "网站",
    approve: "批准",
    delete: "删除",
    spam: "标记为垃圾评论",
    ban: "封禁作者",
    manage_subject: "你在 {site} 的评论",
    manage_intro: "有人（希望是你）请求一个链接，用于查看、删除或下载在 {site} 用此地址发表的评论。",
    manage_action: "管理我的评论",
    manage_footer: "链接在 {days} 天内有效。如果这不是你的请求，请忽略此邮件。",
};

impl Strings {
    /// The strings for a site language (the embed's ten); English for any other.
    pub fn for_language(language: &str) -> &'static Strings {
        match language.split(['-', '_']).next().unwrap_or_default() {
            "de" => &DE,
            "fr" => &FR,
            "es" => &ES,
            "pt" => &PT,
            "it" => &IT,
            "nl" => &NL,
            "pl" => &PL,
            "ja" => &JA,
            "zh" => &ZH,
            _ => &EN,
        }
    }
}

/// Fills `{author}`, `{title}`, `{site}` and `{days}` in a string, in one pass (a value that
/// itself looks like a placeholder stays as it is).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find('}').and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, end))
        });
        match replaced {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_fills_the_same_placeholders_as_english() {
        fn placeholders(s: &Strings) -> Vec<Vec<&'static str>> {
            let all = [
                s.reply_subject,
                s.reply_intro,
                s.reply_footer,
                s.thread_subject,
                s.thread_intro,
                s.thread_footer,
                s.unsubscribe_all,
                s.confirm_subject,
                s.confirm_intro,
                s.confirm_footer,
                s.owner_subject_new,
                s.owner_subject_held,
                s.owner_intro,
                s.owner_footer,
                s.manage_subject,
                s.manage_intro,
                s.manage_footer,
            ];
            all.iter()
                .map(|t| {
                    let mut found: Vec<&'static str> = ["{author}", "{title}", "{site}", "{days}"]
                        .into_iter()
                        .filter(|p| t.contains(p))
                        .collect();
                    found.sort_unstable();
                    found
                })
                .collect()
        }
        let english = placeholders(&EN);
        for lang in ["de", "fr", "es", "pt", "it", "nl", "pl", "ja", "zh"] {
            let strings = Strings::for_language(lang);
            assert!(!std::ptr::eq(strings, &EN), "{lang} falls back to English");
            assert_eq!(placeholders(strings), english, "{lang}");
        }
        assert!(std::ptr::eq(Strings::for_language("xx"), &EN));
        assert!(std::ptr::eq(Strings::for_language("pt-BR"), &PT));
    }

    #[test]
    fn fill_replaces_once_and_leaves_lookalikes_in_values_alone() {
        let out = fill(
            "{author} on {title} ({site}) {unknown}",
            &[("author", "{site}"), ("title", "T"), ("site", "S")],
        );
        assert_eq!(out, "{site} on T (S) {unknown}");
    }
}
