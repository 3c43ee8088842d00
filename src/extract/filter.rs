//! Block-level boilerplate classifier, run on the blocks of the chosen body root.
//!
//! Chrome that sits *inside* the article container survives root selection: "Read also" lines,
//! share and newsletter prompts, donation appeals, bylines and dates, captions and credits, tag
//! lines, a repeated headline. Each rule is a phrase family (several languages) plus a length
//! cap: the cap is what keeps a real paragraph that merely *mentions* a newsletter or a
//! donation, because prompts are short and prose is not.

use super::content::{Kind, RawBlock};
use super::memory::HostView;
use super::meta::Meta;
use super::{Removal, RemovalReason as R};

/// How a phrase must sit in the block.
#[derive(Clone, Copy)]
enum At {
    /// The block starts with the phrase.
    Start,
    /// The phrase appears anywhere.
    Anywhere,
    /// The block is the phrase (ignoring surrounding punctuation).
    Whole,
}

struct Family {
    reason: R,
    at: At,
    /// Longest block (in words) the family may remove.
    max_words: usize,
    phrases: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        // Advertising and affiliate disclosures, paywall and follow prompts, and editorial
        // disclaimers: sentences about the page, never about the story.
        reason: R::Ad,
        at: At::Anywhere,
        max_words: 45,
        phrases: &[
            "contains references to products",
            "we may receive compensation",
            "we may earn a commission",
            "may earn a commission",
            "enthält werbung",
            "enthält affiliate",
            "werbung für",
            "provisionslink",
            "erhalten wir eine provision",
            "eine provision",
            "lien affilié",
            "liens affiliés",
            "enlace de afiliado",
            "enlaces de afiliados",
            "link di affiliazione",
            // disclaimers
            "not responsible for the opinions",
            "do not necessarily reflect",
            "does not necessarily reflect",
            "opinions expressed",
            "meinung des autors wieder",
            "alle angaben ohne gewähr",
            "angaben ohne gewähr",
            "n'engagent que leurs auteurs",
            "n'engagent que leur auteur",
        ],
    },
    Family {
        // A short affiliate notice; inside a longer sentence the words are the author's.
        reason: R::Ad,
        at: At::Anywhere,
        max_words: 12,
        phrases: &["affiliate link", "affiliate-link", "contains affiliate"],
    },
    Family {
        reason: R::Ad,
        at: At::Start,
        max_words: 30,
        phrases: &[
            "anzeige -",
            "anzeige:",
            "anzeige –",
            "*werbung",
            "werbung:",
            "werbung -",
            "advertisement:",
            "advertisement -",
            "sponsored by",
            "publicidad:",
            "publicité :",
            "publicité:",
            "reklama:",
        ],
    },
    Family {
        reason: R::Promo,
        at: At::Anywhere,
        max_words: 45,
        phrases: &[
            "already a subscriber",
            "please subscribe",
            "to view the full story",
            "subscribers also receive",
            "bitte registrieren sie sich",
            "pour accéder en illimité",
            "hazte miembro",
            "apóyanos",
            "unterstütze ",
            "jede kleine spende",
            "letter to the editor via",
            "submit your letter",
            "canal de telegram",
            "canal de youtube",
            "on twitter and instagram",
            "was this article helpful",
            "war der artikel nützlich",
            "war dieser artikel hilfreich",
            "cet article vous a-t-il été utile",
        ],
    },
    Family {
        reason: R::Related,
        at: At::Start,
        max_words: 30,
        phrases: &[
            // en
            "read more",
            "read also",
            "also read",
            "read next",
            "related:",
            "related articles",
            "related stories",
            "related posts",
            "related content",
            "related coverage",
            "related reading",
            "more from",
            "see also",
            "most read",
            "most popular",
            "you may also like",
            "you might also like",
            "recommended for you",
            "trending now",
            "more stories",
            "continue reading",
            "click here to read",
            "read the full",
            "related news",
            // fr
            "lire aussi",
            "à lire aussi",
            "a lire aussi",
            "à lire également",
            "lire la suite",
            "voir aussi",
            "sur le même sujet",
            "les plus lus",
            "lisez aussi",
            "à voir aussi",
            // de
            "lesen sie auch",
            "lesen sie mehr",
            "mehr zum thema",
            "auch interessant",
            "weiterlesen",
            "das könnte sie auch interessieren",
            "meistgelesen",
            "mehr lesen",
            "das könnte dich auch interessieren",
            "mehr kolumnen",
            "alle artikel zu",
            "weitere infos unter",
            "weitere informationen hierzu",
            "das thema könnte",
            "sie könnten auch an folgenden",
            "schon gelesen?",
            "zum weiterlesen",
            "weitere beiträge",
            "weitere artikel",
            "weitere themen",
            "weitere aktuelle",
            "ähnliche beiträge",
            "ähnliche themen",
            "ähnliche artikel",
            "verwandte themen",
            "neueste artikel",
            "neueste beiträge",
            "mehr themen",
            "siehe auch",
            "empfehlungen aus dem",
            // pl
            "czytaj też",
            "czytaj także",
            "zobacz także",
            "zobacz też",
            "polecamy",
            // fr (more)
            "vous aimerez aussi",
            "vous aimerez peut-être",
            "à découvrir aussi",
            // en (more)
            "explore further",
            "don't miss",
            "more on this",
            // es
            "lee también",
            "lea también",
            "leer más",
            "te puede interesar",
            "también te puede interesar",
            "lo más leído",
            "noticias relacionadas",
            "ver también",
            "más información",
            // pt
            "leia também",
            "leia mais",
            "veja também",
            "saiba mais",
            "mais lidas",
            "notícias relacionadas",
            // it
            "leggi anche",
            "leggi di più",
            "potrebbe interessarti",
            "i più letti",
            "articoli correlati",
            "vedi anche",
            // sv
            "läs också",
            "läs även",
            "läs mer",
            "mest läst",
            "relaterat",
            "relaterade artiklar",
            // ru
            "читайте также",
            "читать также",
            "читать далее",
            "смотрите также",
            "по теме:",
            "самое читаемое",
        ],
    },
    Family {
        reason: R::Share,
        at: At::Anywhere,
        max_words: 20,
        phrases: &[
            "share this",
            "share on facebook",
            "share on twitter",
            "share on linkedin",
            "share via",
            "click to share",
            "follow us on",
            "like us on facebook",
            "tweet this",
            "share the article",
            "share article",
            "partager sur",
            "partagez cet",
            "suivez-nous",
            "auf facebook teilen",
            "folgen sie uns",
            "artikel teilen",
            "compartir en",
            "comparte esta",
            "síguenos",
            "siguenos",
            "mit freunden teilen",
            "mit anderen teilen",
            "compartilhe",
            "compartilhar no",
            "siga-nos",
            "condividi su",
            "condividi questo",
            "seguici su",
            "dela på",
            "dela artikeln",
            "följ oss",
            "поделиться",
            "следите за нами",
            "подписывайтесь на наш",
        ],
    },
    Family {
        reason: R::Promo,
        at: At::Anywhere,
        max_words: 45,
        phrases: &[
            // newsletters and subscriptions
            "sign up for our",
            "sign up to our",
            "subscribe to our",
            "our newsletter",
            "your inbox",
            "subscribe now",
            "get our newsletter",
            "join our mailing list",
            "sign up for the",
            "inscrivez-vous à notre",
            "abonnez-vous",
            "notre newsletter",
            "notre infolettre",
            "recevez notre",
            "newsletter abonnieren",
            "unseren newsletter",
            "jetzt abonnieren",
            "abonnieren sie",
            "suscríbete",
            "suscríbase",
            "nuestro boletín",
            "nuestra newsletter",
            "assine nossa",
            "assine a nossa",
            "inscreva-se",
            "nossa newsletter",
            "iscriviti alla",
            "la nostra newsletter",
            "iscriviti alla nostra",
            "prenumerera på",
            "vårt nyhetsbrev",
            "anmäl dig till vårt",
            "подпишитесь на",
            "нашу рассылку",
            "подписаться на рассылку",
            // donations and memberships
            "support us",
            "support our",
            "donate now",
            "donate today",
            "please donate",
            "make a donation",
            "become a patron",
            "on patreon",
            "via patreon",
            "on paypal",
            "via paypal",
            "through paypal",
            "buy me a coffee",
            "become a member",
            "support independent journalism",
            "feel free to support",
            "soutenez-nous",
            "faites un don",
            "faire un don",
            "unterstützen sie uns",
            "jetzt spenden",
            "apóyanos",
            "haz una donación",
            "dona ahora",
            "apoie o",
            "apoie-nos",
            "faça uma doação",
            "sostienici",
            "sostieni il",
            "fai una donazione",
            "du kan stötta",
            "stötta oss",
            "stöd oss",
            "bli medlem",
            "поддержите нас",
            "поддержать проект",
            "пожертвовать",
        ],
    },
    Family {
        reason: R::Comments,
        at: At::Start,
        max_words: 12,
        phrases: &[
            "leave a comment",
            "leave a reply",
            "comments (",
            "no comments",
            "log in to comment",
            "log in to reply",
            "post a comment",
            "add a comment",
            "join the discussion",
            "kommentare",
            "commentaires",
            "comentarios",
            "comentários",
            "commenti",
            "kommentarer",
            "комментарии",
            "laisser un commentaire",
            "deja un comentario",
            "lascia un commento",
            "skriv en kommentar",
        ],
    },
    Family {
        // Calls to action: only ever a few words long, so a bare keyword is enough.
        reason: R::Promo,
        at: At::Anywhere,
        max_words: 8,
        phrases: &[
            "newsletter",
            "sign up",
            "signing up",
            "subscribe",
            "free trial",
            "no credit card",
            "download now",
            "infolettre",
            "abonnez",
            "abonnieren",
            "suscríbete",
            "assine",
            "iscriviti",
            "prenumerera",
            "подпис",
        ],
    },
    Family {
        reason: R::Cookie,
        at: At::Anywhere,
        max_words: 60,
        phrases: &[
            "we use cookies",
            "this website uses cookies",
            "this site uses cookies",
            "accept cookies",
            "nous utilisons des cookies",
            "wir verwenden cookies",
            "utilizamos cookies",
            "usamos cookies",
            "utilizziamo i cookie",
            "vi använder cookies",
            "мы используем cookie",
            "privacy overview",
            "necessary cookies",
            "cookies are small",
            "cookie settings",
            "cookie-einstellungen",
            "verwendet cookies",
            "nutzt cookies",
            "uses cookies",
            "korzystamy z cookies",
            "używamy plików cookie",
            "utiliza cookies",
            "utilise des cookies",
            "utilisons des cookies",
            "was sind cookies",
            "what are cookies",
            "wir respektieren deine privatsphäre",
            "we respect your privacy",
        ],
    },
    Family {
        reason: R::Tags,
        at: At::Start,
        max_words: 25,
        phrases: &[
            "tags:",
            "category:",
            "category :",
            "categories:",
            "kategorie:",
            "kategorien:",
            "catégorie :",
            "categoría:",
            "tagged:",
            "tagged with",
            "filed under",
            "topics:",
            "tag:",
            "schlagwörter",
            "schlagworte:",
            "themen:",
            "étiquettes",
            "mots-clés",
            "mots clés",
            "etiquetas:",
            "temas:",
            "argomenti:",
            "taggar:",
            "теги:",
            "тэги:",
            "keywords:",
        ],
    },
    Family {
        reason: R::Caption,
        at: At::Start,
        max_words: 30,
        phrases: &[
            "photo:",
            "photo by",
            "photos:",
            "foto:",
            "fotos:",
            "image:",
            "images:",
            "picture:",
            "credit:",
            "photograph:",
            "bild:",
            "illustration:",
            "crédit photo",
            "crédits photo",
            "photo credit",
            "fotografía:",
            "imagem:",
            "immagine:",
            "фото:",
            "image source",
            "image credit",
            "(photo",
            "titelbild:",
            "beitragsbild",
            "quelle:",
            "quellen:",
            "źródło:",
            "fuente:",
            "source :",
            "fonte:",
        ],
    },
    Family {
        reason: R::Caption,
        at: At::Anywhere,
        max_words: 15,
        phrases: &[
            "getty images",
            "shutterstock",
            "afp photo",
            "©",
            "(c) ",
            "/ reuters",
            "/ ap photo",
        ],
    },
    Family {
        reason: R::Boilerplate,
        at: At::Whole,
        max_words: 5,
        phrases: &[
            "advertisement",
            "advertising",
            "anzeige",
            "werbung",
            "publicité",
            "publicidad",
            "pubblicità",
            "annons",
            "реклама",
            "show more",
            "show less",
            "load more",
            "back to top",
            "back to top button",
            "scroll to top",
            "click here",
            "print",
            "email",
            "share",
            "tweet",
            "skip to content",
            "top",
            "menu",
            "close",
            "verified by monsterinsights",
            "print this page",
            "download now",
            "learn more",
            "read more",
            "see more",
            "view more",
            "view all",
            "see all",
            "reply",
            "log in",
            "login",
            "sign up",
            "subscribe",
            "sponsored",
            "sponsored content",
            "continue reading",
            "advert",
            "ad",
            "reklama",
            "annonce",
            "loading",
            "inhalt",
            "kontakt",
            "contact",
            "drukuj",
            "temas",
            "schlagworte",
            "en savoir plus",
            "weitere informationen",
            "weiterführende informationen",
            "weitere infos",
            "mehr infos",
            "seite teilen",
            "seite drucken",
            "artikel drucken",
            "rezept drucken",
            "imprimir",
            "imprimer",
            "stampa",
            "like it? share it",
            "keine kommentare",
            "no comments",
            "no comments yet",
            "sin comentarios",
            "aucun commentaire",
            "permalink",
            "permalien",
            "quellen ausblenden",
            "quellen einblenden",
            "quellenangaben",
            "zusatzinformationen",
            "originalpublikation",
            "originalartikel",
            "externer inhalt",
            "inhaltsverzeichnis",
            "telefon",
        ],
    },
    Family {
        reason: R::Boilerplate,
        at: At::Anywhere,
        max_words: 40,
        phrases: &[
            "all rights reserved",
            "originally published",
            "republished with permission",
            "this story was originally",
            "verified by monsterinsights",
            "tous droits réservés",
            "alle rechte vorbehalten",
            "todos los derechos reservados",
            "todos os direitos reservados",
            "tutti i diritti riservati",
            "alla rättigheter förbehållna",
            "все права защищены",
            // script-only widgets and unrendered content
            "requires javascript",
            "enable javascript",
            "javascript is disabled",
            "javascript must be enabled",
            "javascript aktivieren",
            "javascript activé",
            "activa javascript",
            "bloggern gefällt das",
            "this entry was posted",
            "if you enjoyed reading",
            "if you enjoyed this",
            "vorschau auf den nächsten artikel",
            "als pdf herunterladen",
            "cookies erleichtern",
            "bloggers like this",
            "noch keine bewertungen",
            "bild anzeigen",
            "the content of this page is licensed",
            "unless otherwise stated, the content",
            "sofern nicht anders ausgewiesen",
        ],
    },
    Family {
        reason: R::Date,
        at: At::Start,
        max_words: 10,
        phrases: &[
            "published",
            "updated",
            "last updated",
            "posted on",
            "publicerad",
            "uppdaterad",
            "publié le",
            "mis à jour",
            "veröffentlicht",
            "aktualisiert",
            "publicado",
            "actualizado",
            "atualizado",
            "pubblicato",
            "aggiornato",
            "опубликовано",
            "обновлено",
            "date:",
            "letzte änderung",
            "erstellt am",
            "stand:",
            "opublikowano",
            "release date",
        ],
    },
    Family {
        reason: R::Byline,
        at: At::Start,
        max_words: 16,
        phrases: &[
            "by ",
            "written by",
            "posted by",
            "author:",
            "words by",
            "reporting by",
            "von ",
            "par ",
            "por ",
            "di ",
            "av ",
            "door ",
            "autor:",
            "auteur :",
            "auteur:",
            "autore:",
            "författare:",
            "автор:",
            "text:",
            "- ",
        ],
    },
];

/// No rule looks at blocks longer than this many words (the largest family cap, and more than
/// any headline).
const LONGEST_RULE: usize = 60;

/// What the filter kept.
pub struct Cleaned {
    /// The article's text blocks.
    pub blocks: Vec<String>,
    /// Per kept block: whether it may feed a dedup fingerprint (false for blocks the site
    /// memory knows as recurring on the host, which two different articles may share).
    pub fingerprint: Vec<bool>,
    /// An author name found in a byline the filter removed.
    pub byline_author: Option<String>,
}

/// Filters the raw blocks; `site` is the host's memory, whose chrome blocks go.
pub fn clean_blocks(
    raw: Vec<RawBlock>,
    title: &str,
    meta: &Meta,
    site: Option<&HostView>,
    mut explain: Option<&mut Vec<Removal>>,
) -> Cleaned {
    let title_key = key(title);
    let author_key = meta.author.as_deref().map(key).filter(|k| !k.is_empty());
    // The memory names furniture around an article; a page it would leave without prose (an
    // article re-published word for word, a template page) is judged on its own.
    let site = site.filter(|s| {
        !s.is_empty()
            && raw
                .iter()
                .any(|b| b.text.len() >= 80 && s.chrome(b.shape).is_none())
    });
    let mut kept: Vec<(String, Kind, u64)> = Vec::with_capacity(raw.len());
    let mut seen_long: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut byline_author = None;
    let mut prose_seen = false;
    let mut kept_prose = 0;
    let mut stopped = false;
    let total: usize = raw.iter().map(|b| b.text.len()).sum();
    let mut before = 0;
    // End of an inline "read also" box: its blocks go, the article resumes after it.
    let mut box_until = 0;
    for (pos, b) in raw.iter().enumerate() {
        if !stopped && prose_seen && pos >= box_until && is_end_marker(b) {
            if let Some(end) = inline_box_end(&raw, pos) {
                box_until = end;
            } else if total - before < before
                || is_comment_heading(&b.text)
                || teaser_rail_follows(&raw, pos)
            {
                // The marker must close the article, not label a box in its middle: less
                // text may follow it than precedes it — unless what follows is a comment
                // thread or a rail of teasers, which routinely outweigh a short article.
                stopped = true;
            }
        }
        before += b.text.len();
        let verdict = if stopped || pos < box_until {
            Some(R::Related)
        } else {
            classify(b, pos, &title_key, author_key.as_deref())
                .or_else(|| {
                    let (seen, pages) = site?.chrome(b.shape)?;
                    Some(R::SiteMemory { seen, pages })
                })
                .or_else(|| {
                    // A second copy of a whole paragraph (teaser repeated below, summary box).
                    (b.text.len() > 80 && !seen_long.insert(b.text.as_str()))
                        .then_some(R::Duplicate)
                })
                .or_else(|| copy_of_kept(&b.text, &kept).then_some(R::Duplicate))
        };
        // The article has started once a long paragraph, or a few shorter ones, were kept.
        if verdict.is_none() && b.text.len() >= 80 {
            kept_prose += b.text.len();
            prose_seen |= b.text.len() >= 200 || kept_prose >= 300;
        }
        match verdict {
            None => kept.push((b.text.clone(), b.kind, b.shape)),
            Some(reason) => {
                if reason == R::Byline && byline_author.is_none() {
                    byline_author = author_from_byline(&b.text);
                }
                if let Some(out) = explain.as_deref_mut() {
                    out.push(Removal {
                        reason,
                        text: b.text.clone(),
                    });
                }
            }
        }
    }
    // A heading with nothing after it introduces something we removed (related links,
    // comments), not article text.
    while kept
        .last()
        .is_some_and(|(_, k, _)| matches!(k, Kind::Heading(_)))
    {
        if let Some((text, _, _)) = kept.pop()
            && let Some(out) = explain.as_deref_mut()
        {
            out.push(Removal {
                reason: R::Related,
                text,
            });
        }
    }
    let fingerprint = kept
        .iter()
        .map(|(_, _, shape)| !site.is_some_and(|s| s.recurring(*shape)))
        .collect();
    Cleaned {
        blocks: kept.into_iter().map(|(t, _, _)| t).collect(),
        fingerprint,
        byline_author,
    }
}

/// Headings that open what follows an article: related links, author boxes, comments. Once
/// the article's prose has started, such a heading ends it.
const END_MARKERS: &[&str] = &[
    // en
    "read this next",
    "read next",
    "up next",
    "what to read next",
    "related",
    "related articles",
    "related posts",
    "related stories",
    "related content",
    "related reading",
    "related news",
    "related topics",
    "more stories",
    "more articles",
    "more news",
    "more to read",
    "more to explore",
    "explore more",
    "keep reading",
    "you may also like",
    "you might also like",
    "you may also be interested in",
    "you might be interested in",
    "recommended",
    "recommended for you",
    "recommended articles",
    "recommended reading",
    "recommended stories",
    "popular posts",
    "popular articles",
    "popular stories",
    "most popular",
    "most read",
    "trending",
    "trending now",
    "latest news",
    "latest posts",
    "latest articles",
    "latest stories",
    "recent posts",
    "recent articles",
    "also in the news",
    "about the author",
    "about the authors",
    "about the reviewer",
    "about the writer",
    "author bio",
    "share this",
    "share this article",
    "share this post",
    "share this story",
    "comments",
    "leave a reply",
    "leave a comment",
    "join the conversation",
    "join the discussion",
    "privacy overview",
    "don't miss",
    "in case you missed it",
    "more from our network",
    // fr
    "à lire aussi",
    "lire aussi",
    "sur le même sujet",
    "articles similaires",
    "articles liés",
    "à propos de l'auteur",
    "les plus lus",
    "dans la même rubrique",
    "commentaires",
    "à lire également",
    // de
    "mehr zum thema",
    "weitere artikel",
    "das könnte sie auch interessieren",
    "ähnliche artikel",
    "über den autor",
    "meistgelesen",
    "kommentare",
    "lesen sie auch",
    "auch interessant",
    // es
    "noticias relacionadas",
    "artículos relacionados",
    "te puede interesar",
    "lo más leído",
    "sobre el autor",
    "comentarios",
    "lee también",
    "más noticias",
    "también te puede interesar",
    // pt
    "notícias relacionadas",
    "artigos relacionados",
    "leia também",
    "mais lidas",
    "sobre o autor",
    "comentários",
    "veja também",
    "leia mais",
    // it
    "articoli correlati",
    "potrebbe interessarti",
    "leggi anche",
    "i più letti",
    "sull'autore",
    "commenti",
    // sv
    "relaterade artiklar",
    "läs också",
    "läs mer",
    "mest läst",
    "om författaren",
    "kommentarer",
    "relaterat",
    // ru
    "читайте также",
    "похожие статьи",
    "по теме",
    "самое читаемое",
    "об авторе",
    "комментарии",
    "популярное",
];

/// Headings that open a reader-comment thread, in the supported languages, with an optional
/// count ("3 Comments", "Kommentare (12)").
pub fn is_comment_heading(text: &str) -> bool {
    // Every heading below holds one of these stems: most lines are rejected without
    // allocating.
    const STEMS: &[&str] = &[
        "omment",
        "OMMENT",
        "oment",
        "OMENT",
        "eply",
        "EPLY",
        "оммент",
        "ОММЕНТ",
    ];
    if text.len() > 60 || !STEMS.iter().any(|s| text.contains(s)) {
        return false;
    }
    let lower = text.to_lowercase().replace('\u{2019}', "'");
    let t: String = lower
        .chars()
        .filter(|c| !c.is_ascii_digit() && !matches!(c, '(' | ')' | '[' | ']' | ':' | '.'))
        .collect();
    let t = t.trim();
    const WORDS: &[&str] = &[
        "comment",
        "comments",
        "reader comments",
        "leave a reply",
        "leave a comment",
        "join the discussion",
        "join the conversation",
        "kommentar",
        "kommentare",
        "leserkommentare",
        "kommentar schreiben",
        "commentaire",
        "commentaires",
        "laisser un commentaire",
        "comentario",
        "comentarios",
        "deja un comentario",
        "comentário",
        "comentários",
        "deixe um comentário",
        "commento",
        "commenti",
        "lascia un commento",
        "kommentarer",
        "skriv en kommentar",
        "комментарии",
        "комментарий",
        "komentarze",
        "komentarz",
    ];
    WORDS.contains(&t)
}

/// Whether the blocks after `pos` are a rail of teasers: linked headlines make up a third
/// of the next lines or more, and less prose follows than precedes (a long list of links in
/// the middle of a guide is not its end).
fn teaser_rail_follows(raw: &[RawBlock], pos: usize) -> bool {
    let next: Vec<&RawBlock> = raw.iter().skip(pos + 1).take(12).collect();
    let linked = next.iter().filter(|b| b.link_density > 0.5).count();
    if next.len() < 3 || linked * 3 < next.len() {
        return false;
    }
    let prose = |bs: &[RawBlock]| -> usize {
        bs.iter()
            .filter(|b| is_prose(b))
            .map(|b| b.text.len())
            .sum()
    };
    prose(&raw[pos + 1..]) < prose(&raw[..pos])
}

/// Whether `text` repeats article text already kept: a hidden second copy of the article
/// printed as one block holds the opening of an earlier paragraph, and a paragraph whose
/// opening sits inside an earlier, much longer block was already printed by it. Only the first
/// few long kept blocks are compared, which keeps the check cheap on any page.
fn copy_of_kept(text: &str, kept: &[(String, Kind, u64)]) -> bool {
    const PREFIX: usize = 60;
    if text.len() < 150 {
        return false;
    }
    let prefix = |s: &str| -> Option<usize> {
        let mut end = PREFIX;
        while end < s.len() && !s.is_char_boundary(end) {
            end += 1;
        }
        (end < s.len()).then_some(end)
    };
    let Some(own) = prefix(text) else {
        return false;
    };
    let mut tail = text.len() - PREFIX;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    let long = || kept.iter().filter(|(k, _, _)| k.len() >= 150).take(4);
    // This block holds two earlier paragraphs, or an earlier block holds all of this one.
    long()
        .filter(|(k, _, _)| {
            text.len() >= 2 * k.len() && prefix(k).is_some_and(|e| text.contains(&k[..e]))
        })
        .count()
        >= 2
        || long().any(|(k, _, _)| {
            k.len() >= 2 * text.len() && k.contains(&text[..own]) && k.contains(&text[tail..])
        })
}

/// Whether `blocks` start as a grid of teaser cards — a lede under each title line, never two
/// paragraphs in a row — rather than an article, whose sections run to several paragraphs.
fn teaser_cards(blocks: &[RawBlock]) -> bool {
    let window = &blocks[..blocks.len().min(8)];
    let long = |b: &RawBlock| b.text.len() >= 100;
    let ledes = window.iter().filter(|b| long(b)).count();
    ledes >= 3 && !window.windows(2).any(|w| long(&w[0]) && long(&w[1]))
}

/// A paragraph of running text: long, hardly linked, ending a sentence.
fn is_prose(b: &RawBlock) -> bool {
    matches!(b.kind, Kind::Paragraph | Kind::Other | Kind::Quote)
        && b.text.len() >= 150
        && b.link_density < 0.1
        && b.text.ends_with(['.', '!', '?', '"', '»', '”', ')'])
}

/// Markers that may label a box of links inside the article ("Read also: …") rather than
/// close it; comment, author and share headings always close it.
const INLINE_BOX_MARKERS: &[&str] = &[
    "read next",
    "up next",
    "read also",
    "also read",
    "read more",
    "see also",
    "related",
    "more on this",
    "lire aussi",
    "à lire aussi",
    "a lire aussi",
    "à lire également",
    "voir aussi",
    "lesen sie auch",
    "lesen sie mehr",
    "mehr zum thema",
    "auch interessant",
    "lee también",
    "lea también",
    "ver también",
    "leia também",
    "veja também",
    "leia mais",
    "leggi anche",
    "vedi anche",
    "läs också",
    "läs även",
    "läs mer",
    "читайте также",
    "по теме",
    "czytaj też",
    "czytaj także",
    "zobacz także",
];

/// When the end marker at `pos` opens an inline "read also" box — a few short lines (the
/// linked headlines) followed by more article prose — the index of the first prose block
/// after the box. `None` when the marker is not of that kind or no prose follows closely.
fn inline_box_end(raw: &[RawBlock], pos: usize) -> Option<usize> {
    let lower = raw[pos].text.to_lowercase();
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if !INLINE_BOX_MARKERS.iter().any(|m| t.starts_with(m)) {
        return None;
    }
    let prose = is_prose;
    // At most six lines in the box, each a headline-sized line, then at least two prose
    // paragraphs: a rail of teasers with ledes is not the article resuming.
    for (j, b) in raw.iter().enumerate().skip(pos + 1).take(7) {
        if prose(b) {
            let following = raw[j..].iter().take(4).filter(|b| prose(b)).count();
            return (j > pos + 1 && following >= 2 && !teaser_cards(&raw[j..])).then_some(j);
        }
        if b.text.len() >= 200 {
            return None;
        }
    }
    None
}

fn is_end_marker(b: &RawBlock) -> bool {
    if b.text.len() > 60 || !matches!(b.kind, Kind::Heading(_) | Kind::Other | Kind::Paragraph) {
        return false;
    }
    if is_comment_heading(&b.text) {
        return true;
    }
    let lower = b.text.to_lowercase().replace('\u{2019}', "'");
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    END_MARKERS.contains(&t)
        || [
            "more from ",
            "related ",
            "more in ",
            "more on ",
            "mehr zu ",
            "mehr zum ",
            "más sobre ",
            "plus sur ",
            "mais sobre ",
            "altro su ",
            "mer om ",
            "więcej o ",
        ]
        .iter()
        .any(|p| t.starts_with(p) && t.len() < 40)
}

/// Unrendered template slots such as `[CTA_MODULE]`.
fn is_placeholder(text: &str) -> bool {
    text.len() > 2
        && text.starts_with('[')
        && text.ends_with(']')
        && text[1..text.len() - 1]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
}

/// Machine metadata printed as text (schema.org microdata, hidden CMS fields): most tokens are
/// URLs, ISO dates or bare numbers and sizes, not words.
fn is_metadata(text: &str, words: usize) -> bool {
    // Prose fails on its first few words: give up once 30 % of them are plain words.
    let allowed = words * 3 / 10;
    let (mut n, mut machine, mut figures) = (0usize, 0usize, 0usize);
    for tok in text.split_whitespace() {
        n += 1;
        if n - machine > allowed + 1 {
            return false;
        }
        if !tok
            .bytes()
            .any(|c| c.is_ascii_digit() || c == b'.' || c == b':')
        {
            continue;
        }
        let t = tok.trim_matches(|c: char| matches!(c, ',' | ';' | '"' | '\'' | '(' | ')'));
        let b = t.as_bytes();
        let url = t.contains("://")
            || t.starts_with("www.")
            || t.contains(".jpg")
            || t.contains(".png")
            || t.contains(".webp");
        let iso =
            b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-';
        let number = !t.is_empty()
            && t.bytes().all(|c| {
                c.is_ascii_digit() || matches!(c, b'.' | b':' | b'x' | b'-' | b'+' | b'/' | b'|')
            });
        if url || iso || (number && t.len() >= 3) {
            machine += 1;
        }
        if iso || (number && t.len() >= 3) {
            figures += 1;
        }
    }
    // A list of links alone may be an article's sources; metadata mixes in dates and sizes.
    n >= 2 && figures > 0 && machine * 10 >= n * 7
}

/// Text that is markup, not prose: an unexpanded shortcode (`[button link="…"]Go[/button]`,
/// `[caption id=…]`) or a tag printed as text (`<img src=…>` from a `<noscript>`).
fn is_markup(text: &str) -> bool {
    let b = text.as_bytes();
    let name_len = |rest: &[u8]| {
        rest.iter()
            .take_while(|c| c.is_ascii_alphabetic() || **c == b'_' || **c == b'-')
            .count()
    };
    match b.first() {
        Some(b'[') => {
            let rest = &b[1..];
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            let n = name_len(rest);
            n >= 2
                && rest[..n].iter().all(|c| !c.is_ascii_uppercase())
                && matches!(rest.get(n), Some(b' ' | b']' | b'='))
                && text.contains(']')
        }
        Some(b'<') => {
            // An HTML element with attributes: `<img src="…"`, `<a href=…`, `<iframe …`.
            const ELEMENTS: &[&[u8]] = &[
                b"img",
                b"a",
                b"iframe",
                b"div",
                b"span",
                b"p",
                b"script",
                b"video",
                b"source",
                b"picture",
                b"figure",
                b"embed",
                b"object",
                b"ins",
                b"blockquote",
                b"link",
                b"meta",
                b"input",
                b"form",
                b"audio",
                b"noscript",
                b"style",
            ];
            let rest = &b[1..];
            let n = name_len(rest);
            let name = rest[..n].to_ascii_lowercase();
            ELEMENTS.contains(&name.as_slice())
                && rest.get(n) == Some(&b' ')
                && (text.contains("=\"") || text.contains("='") || text.contains("=http"))
        }
        _ => false,
    }
}

/// Letters and digits only, lower-cased: how two renderings of a title are compared.
fn key(s: &str) -> String {
    if s.is_ascii() {
        return s
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn classify(b: &RawBlock, pos: usize, title_key: &str, author_key: Option<&str>) -> Option<R> {
    let text = &b.text;
    // A linked subheading is still a subheading (tables of contents link them).
    // A linked subheading or list item is still article structure (tables of contents and
    // source lists link them), and a linked full sentence is prose; a bare link label is not.
    let sentence = text.ends_with(['.', '!', '?']);
    if b.link_density > 0.5 && !sentence && !matches!(b.kind, Kind::Heading(_) | Kind::ListItem) {
        return Some(R::LinkDense);
    }
    let words = text.split_whitespace().take(LONGEST_RULE + 1).count();
    if words > LONGEST_RULE {
        // Prose: no rule below applies to a block this long.
        return None;
    }
    if !text.chars().any(char::is_alphanumeric) || is_placeholder(text) || is_markup(text) {
        return Some(R::Boilerplate);
    }
    if is_metadata(text, words) {
        return Some(R::Hidden);
    }
    // The comparison key costs a pass over the text: only build it when it can matter.
    let k = if (author_key.is_some() && words <= 12) || text.len() <= 2 * title_key.len() + 16 {
        key(text)
    } else {
        String::new()
    };
    if !title_key.is_empty() && k == title_key {
        return Some(R::DuplicateTitle);
    }
    if matches!(b.kind, Kind::Heading(1)) && pos < 3 {
        return Some(R::DuplicateTitle);
    }
    if let Some(a) = author_key
        && words <= 12
        && (k == a || (k.contains(a) && k.len() < a.len() + 40 && !text.ends_with('.')))
    {
        return Some(R::Byline);
    }
    if let Some(r) = phrase_verdict(text, words) {
        return Some(r);
    }
    if words <= 8 && looks_like_date(text) {
        return Some(R::Date);
    }
    None
}

/// The phrase families, on their own (exposed for tests).
fn phrase_verdict(text: &str, words: usize) -> Option<R> {
    let lower = text.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '©');
    let pairs = PairSet::of(&lower);
    let first = [
        lower.as_bytes().first().copied(),
        trimmed.as_bytes().first().copied(),
    ];
    for (fam, index) in FAMILIES.iter().zip(family_index()) {
        if words > fam.max_words || !index.may_match(fam.at, first, &pairs) {
            continue;
        }
        let hit = fam.phrases.iter().any(|p| match fam.at {
            // First-byte checks first: they reject nearly every phrase without a memcmp call.
            At::Start => {
                let p0 = p.as_bytes()[0];
                (lower.as_bytes().first() == Some(&p0) && lower.starts_with(p))
                    || (trimmed.as_bytes().first() == Some(&p0) && trimmed.starts_with(p))
            }
            At::Anywhere => pairs.may_contain(p) && lower.contains(p),
            At::Whole => trimmed.len() == p.len() && trimmed == *p,
        });
        if hit {
            if fam.reason == R::Byline && !byline_shape(text) {
                continue;
            }
            if fam.reason == R::Date && !text.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            return Some(fam.reason);
        }
    }
    None
}

/// Per family, the first bytes and first byte pairs of its phrases: one check decides that no
/// phrase of the family can match, so most blocks skip most families.
struct FamilyIndex {
    first_bytes: [u64; 4],
    first_pairs: PairSet,
}

impl FamilyIndex {
    fn may_match(&self, at: At, first: [Option<u8>; 2], pairs: &PairSet) -> bool {
        match at {
            At::Start | At::Whole => first
                .iter()
                .flatten()
                .any(|&b| self.first_bytes[usize::from(b / 64)] & (1 << (b % 64)) != 0),
            At::Anywhere => self
                .first_pairs
                .0
                .iter()
                .zip(&pairs.0)
                .any(|(a, b)| a & b != 0),
        }
    }
}

fn family_index() -> &'static [FamilyIndex] {
    static INDEX: std::sync::OnceLock<Vec<FamilyIndex>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        FAMILIES
            .iter()
            .map(|fam| {
                let mut index = FamilyIndex {
                    first_bytes: [0; 4],
                    first_pairs: PairSet([0; 64]),
                };
                for p in fam.phrases.iter().map(|p| p.as_bytes()) {
                    index.first_bytes[usize::from(p[0] / 64)] |= 1 << (p[0] % 64);
                    // Every phrase has at least two bytes (checked by a unit test).
                    if let [a, b, ..] = *p {
                        let h = PairSet::hash(a, b);
                        index.first_pairs.0[h / 64] |= 1 << (h % 64);
                    }
                }
                index
            })
            .collect()
    })
}

/// The set of byte pairs in a text, hashed into 4096 bits: a phrase whose first or last pair
/// is absent cannot occur, which spares most substring searches.
struct PairSet([u64; 64]);

impl PairSet {
    fn hash(a: u8, b: u8) -> usize {
        (usize::from(a) * 31 + usize::from(b)) & 4095
    }

    fn of(s: &str) -> PairSet {
        let mut set = PairSet([0; 64]);
        for w in s.as_bytes().windows(2) {
            let h = Self::hash(w[0], w[1]);
            set.0[h / 64] |= 1 << (h % 64);
        }
        set
    }

    fn has(&self, a: u8, b: u8) -> bool {
        let h = Self::hash(a, b);
        self.0[h / 64] & (1 << (h % 64)) != 0
    }

    fn may_contain(&self, phrase: &str) -> bool {
        let p = phrase.as_bytes();
        p.len() < 2 || (self.has(p[0], p[1]) && self.has(p[p.len() - 2], p[p.len() - 1]))
    }
}

/// "By Jane Doe", "- Osborn Baya", "Von Max Muster und Erika Beispiel": a marker followed by
/// capitalised names, no sentence punctuation.
fn byline_shape(text: &str) -> bool {
    let mut it = text.split_whitespace();
    let first = it.next().unwrap_or("");
    let rest: Vec<&str> = if first.ends_with(':') || first == "-" || first.len() <= 3 {
        it.collect()
    } else {
        // "Written by", "Posted by": skip the second marker word too.
        it.skip(1).collect()
    };
    !rest.is_empty()
        && !text.ends_with('.')
        && rest
            .iter()
            .take(2)
            .all(|w| w.chars().next().is_some_and(|c| c.is_uppercase()))
}

fn author_from_byline(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let markers = [
        "written by ",
        "posted by ",
        "by ",
        "von ",
        "par ",
        "por ",
        "di ",
        "av ",
        "door ",
        "- ",
    ];
    let start = markers
        .iter()
        .find(|m| lower.starts_with(*m))
        .map_or(0, |m| m.len());
    let name = text
        .get(start..)?
        .split(['|', '·', ',', '\u{2014}'])
        .next()?
        .trim();
    (!name.is_empty() && name.split_whitespace().count() <= 5).then(|| name.to_owned())
}

/// Month names and their usual abbreviations (en, fr, de, es, pt, it, sv, ru), plus the words
/// that accompany dates on bylines. Matched as whole words.
const DATE_WORDS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "januar",
    "februar",
    "märz",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "janeiro",
    "fevereiro",
    "março",
    "maio",
    "junho",
    "julho",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
    "gennaio",
    "febbraio",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "settembre",
    "ottobre",
    "dicembre",
    "januari",
    "februari",
    "mars",
    "maj",
    "augusti",
    "oktober",
    "januar",
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
    "am",
    "pm",
    "utc",
    "gmt",
    "et",
    "est",
    "edt",
    "cet",
    "cest",
    "min",
    "mins",
    "read",
    "updated",
    "published",
    "posted",
    "on",
    "at",
    "de",
    "del",
    "di",
    "den",
    "le",
    "am",
    "um",
    "г",
    "года",
    "ago",
    "hours",
    "days",
    "h",
];

/// A short line made of a date and little else ("June 2, 2025", "12 May 2025 · 6 min read",
/// "2025-06-02 09:15"): mostly numbers and date words, with at least one number.
fn looks_like_date(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut total = 0;
    let mut datey = 0;
    let mut numbers = 0;
    let mut month = false;
    for w in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        total += 1;
        if w.chars().all(|c| c.is_ascii_digit()) {
            numbers += 1;
            datey += 1;
        } else if DATE_WORDS.contains(&w) {
            datey += 1;
            // The filler words at the end of DATE_WORDS do not make a date on their own.
            month |= w.len() >= 3
                && !matches!(
                    w,
                    "min"
                        | "mins"
                        | "read"
                        | "updated"
                        | "published"
                        | "posted"
                        | "ago"
                        | "hours"
                        | "days"
                        | "utc"
                        | "gmt"
                        | "est"
                        | "edt"
                        | "cet"
                        | "cest"
                        | "года"
                        | "del"
                        | "den"
                );
        }
    }
    let numeric_date = lower.split_whitespace().any(|w| {
        let parts: Vec<&str> = w.split(['/', '.', '-']).filter(|p| !p.is_empty()).collect();
        parts.len() == 3 && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    });
    let money = lower.contains(['$', '€', '£', '%', '¥']);
    numbers > 0 && !money && (month || numeric_date) && datey * 4 >= total * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<R> {
        phrase_verdict(s, s.split_whitespace().count())
    }

    /// (family, positive line, negative paragraph that merely mentions the topic).
    const CASES: &[(R, &str, &str)] = &[
        // related / read more
        (
            R::Related,
            "Read also: Inside the Sahel's new security order",
            "Readers who read more than one paper a day are rare, the survey found, and most rely on television for their news.",
        ),
        (
            R::Related,
            "À lire aussi : la crise au Sahel",
            "Les élèves doivent lire aussi des romans classiques pendant l'été, selon le ministère.",
        ),
        (
            R::Related,
            "Lesen Sie auch: Die Krise im Sahel",
            "Die Regierung will, dass Schüler mehr lesen, sagte die Ministerin am Montag in Berlin.",
        ),
        (
            R::Related,
            "Lee también: La crisis del Sahel",
            "El ministro dijo que los niños leen también en vacaciones, según la encuesta publicada hoy.",
        ),
        (
            R::Related,
            "Leia também: A crise no Sahel",
            "O ministro disse que as crianças leem também durante as férias, segundo a pesquisa.",
        ),
        (
            R::Related,
            "Leggi anche: La crisi nel Sahel",
            "Il ministro ha detto che i bambini leggono anche in vacanza, secondo il sondaggio.",
        ),
        (
            R::Related,
            "Läs också: Krisen i Sahel",
            "Ministern sa att barnen läser också under sommarlovet, enligt undersökningen.",
        ),
        (
            R::Related,
            "Читайте также: Кризис в Сахеле",
            "Министр сказал, что дети читают также и летом, согласно опросу.",
        ),
        // share / follow
        (
            R::Share,
            "Share this article on Facebook",
            "The company said users share this kind of content far less often than they did five years ago, according to internal data seen by reporters in Brussels this week.",
        ),
        (
            R::Share,
            "Suivez-nous sur Twitter",
            "Le ministre a déclaré que les agriculteurs partagent leurs terres, selon le rapport publié lundi à Paris par le gouvernement français.",
        ),
        (
            R::Share,
            "Folgen Sie uns auf Instagram",
            "Die Polizei sagte, sie werde den Hinweisen folgen, die Zeugen am Wochenende gegeben hatten, und bat um weitere Informationen.",
        ),
        (
            R::Share,
            "Síguenos en Twitter",
            "La policía dijo que seguirá las pistas que los testigos dieron el fin de semana y pidió más información a los vecinos.",
        ),
        (
            R::Share,
            "Siga-nos no Instagram",
            "A polícia disse que vai seguir as pistas dadas pelas testemunhas no fim de semana e pediu mais informações aos moradores.",
        ),
        (
            R::Share,
            "Seguici su Facebook",
            "La polizia ha detto che seguirà le piste fornite dai testimoni nel fine settimana e ha chiesto ulteriori informazioni.",
        ),
        (
            R::Share,
            "Följ oss på Instagram",
            "Polisen sa att de kommer att följa upp tipsen som vittnen gav under helgen och bad om mer information från allmänheten.",
        ),
        (
            R::Share,
            "Поделиться в Telegram",
            "Полиция заявила, что проверит сведения, которые свидетели сообщили в выходные, и попросила жителей о помощи.",
        ),
        // newsletters / donations
        (
            R::Promo,
            "Sign up for our newsletter to get the best stories in your inbox.",
            "The newsletter, launched in 2019 by two former reporters, now reaches 40,000 readers and has become a model for local news start-ups across the country.",
        ),
        (
            R::Promo,
            "Feel free to support our work on PayPal",
            "PayPal reported higher quarterly revenue on Tuesday, beating analyst expectations as payment volumes grew in Europe and Asia.",
        ),
        (
            R::Promo,
            "Du kan stötta Newsvoice via MediaLinq",
            "Regeringen vill stötta landsbygden med nya pengar, sa ministern på tisdagen under en presskonferens i Stockholm.",
        ),
        (
            R::Promo,
            "Abonnez-vous à notre newsletter",
            "Le ministre a annoncé que la lettre d'information du gouvernement serait désormais publiée chaque semaine, selon un communiqué.",
        ),
        (
            R::Promo,
            "Jetzt spenden und unabhängigen Journalismus unterstützen",
            "Die Stiftung hat im vergangenen Jahr mehr Spenden erhalten als je zuvor, teilte sie am Montag in Hamburg mit.",
        ),
        (
            R::Promo,
            "Suscríbete a nuestro boletín",
            "El boletín oficial del Estado publicó el lunes la nueva ley de vivienda, que entrará en vigor el próximo mes.",
        ),
        (
            R::Promo,
            "Assine nossa newsletter e receba as notícias",
            "O governo publicou a nova lei no diário oficial na segunda-feira, e ela entra em vigor no próximo mês.",
        ),
        (
            R::Promo,
            "Iscriviti alla nostra newsletter",
            "Il governo ha pubblicato la nuova legge sulla gazzetta ufficiale lunedì, ed entrerà in vigore il mese prossimo.",
        ),
        (
            R::Promo,
            "Подпишитесь на наш Telegram-канал",
            "Правительство опубликовало новый закон в понедельник, и он вступит в силу в следующем месяце.",
        ),
        // tags, captions, comments, cookies
        (
            R::Tags,
            "Tags: Burkina Faso",
            "The tags on the crates showed they had been shipped from the port of Abidjan in March, officials said.",
        ),
        (
            R::Caption,
            "Photo: Ouaga Observer",
            "The photo, taken in March, shows the minister arriving in Ouagadougou surrounded by guards and officials from both countries.",
        ),
        (
            R::Comments,
            "Comments (3)",
            "Comments made by the minister on Tuesday drew sharp criticism from opposition parties, who called for his resignation.",
        ),
        (
            R::Cookie,
            "We use cookies to improve your experience.",
            "The bakery said it would use more local flour in its cookies from next year, citing rising import costs.",
        ),
    ];

    /// The structural families in every supported language (same shape as [`CASES`]).
    const CASES_I18N: &[(R, &str, &str)] = &[
        (
            R::Tags,
            "Mots-clés : Burkina Faso, Russie",
            "Les mots-clés de la négociation restent la sécurité et l'économie, selon le ministre.",
        ),
        (
            R::Tags,
            "Schlagwörter: Burkina Faso, Russland",
            "Die Schlagwörter der Debatte waren Sicherheit und Wirtschaft, sagte die Ministerin in Berlin.",
        ),
        (
            R::Tags,
            "Etiquetas: Burkina Faso, Rusia",
            "Las etiquetas de los productos deberán indicar su origen a partir del próximo año, dijo el ministro.",
        ),
        (
            R::Tags,
            "Temas: Burkina Faso, Rússia",
            "Os temas da cimeira foram a segurança e a economia, segundo o comunicado oficial do governo.",
        ),
        (
            R::Tags,
            "Argomenti: Burkina Faso, Russia",
            "Gli argomenti del vertice sono stati la sicurezza e l'economia, secondo il comunicato ufficiale.",
        ),
        (
            R::Tags,
            "Taggar: Burkina Faso, Ryssland",
            "Taggarna på lådorna visade att de hade skickats från hamnen i Abidjan i mars, enligt tjänstemän.",
        ),
        (
            R::Tags,
            "Теги: Буркина-Фасо, Россия",
            "Теги на ящиках показали, что их отправили из порта Абиджан в марте, сообщили чиновники.",
        ),
        (
            R::Caption,
            "Crédit photo : AFP",
            "Le crédit photo de l'agence a été contesté par le photographe devant le tribunal de Paris lundi.",
        ),
        (
            R::Caption,
            "Foto: dpa",
            "Das Foto, aufgenommen im März, zeigt den Minister bei seiner Ankunft in Ouagadougou mit seinen Beratern.",
        ),
        (
            R::Caption,
            "Fotografía: EFE",
            "La fotografía, tomada en marzo, muestra al ministro llegando a Uagadugú rodeado de guardias.",
        ),
        (
            R::Caption,
            "Imagem: Reprodução",
            "A imagem, feita em março, mostra o ministro chegando a Uagadugu cercado por seguranças.",
        ),
        (
            R::Caption,
            "Immagine: ANSA",
            "L'immagine, scattata a marzo, mostra il ministro che arriva a Ouagadougou circondato da guardie.",
        ),
        (
            R::Caption,
            "Bild: TT",
            "Bilden, tagen i mars, visar ministern när han anländer till Ouagadougou omgiven av vakter.",
        ),
        (
            R::Caption,
            "Фото: ТАСС",
            "Фотография, сделанная в марте, показывает министра по прибытии в Уагадугу в окружении охраны.",
        ),
        (
            R::Comments,
            "Commentaires (3)",
            "Commentaires du ministre sur la réforme ont provoqué une vive réaction des syndicats et de l'opposition lundi soir.",
        ),
        (
            R::Comments,
            "Kommentare (3)",
            "Kommentare des Ministers zur Reform lösten am Montagabend heftige Reaktionen der Gewerkschaften und der Opposition aus.",
        ),
        (
            R::Comments,
            "Comentarios (3)",
            "Comentarios del ministro sobre la reforma provocaron el lunes una fuerte reacción de los sindicatos y de la oposición.",
        ),
        (
            R::Comments,
            "Comentários (3)",
            "Comentários do ministro sobre a reforma provocaram na segunda-feira uma forte reação dos sindicatos e da oposição.",
        ),
        (
            R::Comments,
            "Commenti (3)",
            "Commenti del ministro sulla riforma hanno provocato lunedì una forte reazione dei sindacati e dell'opposizione politica.",
        ),
        (
            R::Comments,
            "Kommentarer (3)",
            "Kommentarer från ministern om reformen väckte på måndagen starka reaktioner från facket och oppositionen i riksdagen.",
        ),
        (
            R::Comments,
            "Комментарии (3)",
            "Комментарии министра о реформе вызвали в понедельник резкую реакцию профсоюзов и оппозиции в парламенте страны.",
        ),
        (
            R::Cookie,
            "Nous utilisons des cookies pour améliorer votre expérience.",
            "La boulangerie vend des biscuits au beurre depuis 1920, selon son propriétaire.",
        ),
        (
            R::Cookie,
            "Wir verwenden Cookies, um Ihr Erlebnis zu verbessern.",
            "Die Bäckerei verkauft seit 1920 Butterkekse, sagte ihr Besitzer am Montag.",
        ),
        (
            R::Cookie,
            "Utilizamos cookies para mejorar su experiencia.",
            "La panadería vende galletas de mantequilla desde 1920, según su propietario.",
        ),
        (
            R::Cookie,
            "Usamos cookies para melhorar a sua experiência.",
            "A padaria vende biscoitos de manteiga desde 1920, segundo o seu proprietário.",
        ),
        (
            R::Cookie,
            "Utilizziamo i cookie per migliorare la tua esperienza.",
            "La panetteria vende biscotti al burro dal 1920, secondo il suo proprietario.",
        ),
        (
            R::Cookie,
            "Vi använder cookies för att förbättra din upplevelse.",
            "Bageriet har sålt smörkakor sedan 1920, enligt ägaren.",
        ),
        (
            R::Cookie,
            "Мы используем cookie-файлы для улучшения работы сайта.",
            "Пекарня продает песочное печенье с 1920 года, сообщил ее владелец.",
        ),
    ];

    #[test]
    fn structural_families_in_every_language() {
        for (want, pos, neg) in CASES_I18N {
            assert_eq!(v(pos), Some(*want), "should remove: {pos}");
            assert_eq!(v(neg), None, "should keep: {neg}");
        }
    }

    #[test]
    fn phrase_families_positive_and_negative() {
        for (want, pos, neg) in CASES {
            assert_eq!(v(pos), Some(*want), "should remove: {pos}");
            assert_eq!(v(neg), None, "should keep: {neg}");
        }
    }

    #[test]
    fn phrases_are_lowercase_and_indexable() {
        for fam in FAMILIES {
            for p in fam.phrases {
                assert!(p.len() >= 2 && p.to_lowercase() == *p, "{p:?}");
            }
        }
    }

    #[test]
    fn bylines_and_dates() {
        assert_eq!(v("By Jane Doe"), Some(R::Byline));
        assert_eq!(v("- Osborn Baya"), Some(R::Byline));
        assert_eq!(v("By the end of the year, prices had doubled."), None);
        assert_eq!(v("publicerad 21 juni 2024"), Some(R::Date));
        assert!(looks_like_date("June 2, 2025"));
        assert!(looks_like_date("12.05.2025"));
        assert!(!looks_like_date("The 3 ministers met."));
        assert_eq!(
            author_from_byline("By Jane Doe | Reuters").as_deref(),
            Some("Jane Doe")
        );
    }

    #[test]
    fn repeated_title_and_trailing_heading_go() {
        let raw = vec![
            RawBlock {
                text: "The Title".into(),
                kind: Kind::Heading(2),
                link_density: 0.0,
                shape: 0,
            },
            RawBlock {
                text: "Body text that stays.".into(),
                kind: Kind::Paragraph,
                link_density: 0.0,
                shape: 0,
            },
            RawBlock {
                text: "Elsewhere".into(),
                kind: Kind::Heading(3),
                link_density: 0.0,
                shape: 0,
            },
        ];
        let mut removed = Vec::new();
        let kept = clean_blocks(raw, "The Title", &Meta::default(), None, Some(&mut removed));
        assert_eq!(kept.blocks, vec!["Body text that stays."]);
        assert_eq!(removed.len(), 2);
        assert_eq!(removed[0].reason, R::DuplicateTitle);
    }
}
