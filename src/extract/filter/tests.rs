//! Block filter unit tests: each phrase family and rule, with real-prose negatives.
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
    // sign-up consent and form prompts
    (
        R::Promo,
        "By signing up, you agree to receive recurring automated marketing messages at the number provided.",
        "Signing up took three weeks, the volunteers said, because the forms were only available in English.",
    ),
    (
        R::Promo,
        "Let us help! Call us or fill out this quick form and we will contact you within 24 hours!",
        "Applicants who could not fill out the forms in time were turned away, the council said on Monday.",
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
    // an inline link to another story with a prefix (Latin American news sites)
    (
        R::Related,
        "MIRA: Capturan a dos sospechosos del robo en el mercado central",
        "Mira a su alrededor y dice que el mercado ha cambiado mucho desde que llegó en 1998.",
    ),
    (
        R::Related,
        "Puedes ver: ¿Qué pasará con las tarifas del agua este año?",
        "Los vecinos dicen que puedes ver el río desde el puente nuevo cuando baja la niebla.",
    ),
    (
        R::Related,
        "Contenido relacionado",
        "El contenido relacionado con la reforma se publicará el lunes, dijo la ministra.",
    ),
    // newsletter and app prompts
    (
        R::Promo,
        "Receive our weekly newsletter with the best stories of the week.",
        "The weekly newsletter of the county council listed the road closures for the holiday.",
    ),
    (
        R::Promo,
        "For breaking news download the Island Times apps for iOS and Android.",
        "The ministry said its new tax app would be released for iOS and Android in the spring.",
    ),
    (
        R::Promo,
        "Gefällt dir unser Magazin? Dann unterstütze uns mit einem Abo.",
        "Das Magazin gefällt den Lesern, sagte der Verleger, die Auflage sei stabil.",
    ),
    // captions with a credit after a bar, labels with a URL, shop and print labels
    (
        R::Caption,
        "Der Trainer jubelt nach dem Schlusspfiff mit seiner Mannschaft im Stadion. | © Max Muster/Getty Images",
        "Der Trainer jubelte nach dem Schlusspfiff mit seiner Mannschaft, die zum ersten Mal seit zehn Jahren das Finale erreicht hat.",
    ),
    (
        R::Boilerplate,
        "Permalink https://example.org/p/3x7",
        "The permanent link between the two towns was opened in 1932.",
    ),
    (
        R::Boilerplate,
        "Rezept drucken Auf Pinterest merken",
        "Das Rezept stammt von meiner Großmutter, die es jeden Sonntag gebacken hat.",
    ),
    (
        R::Boilerplate,
        "Der Artikel wurde erfolgreich hinzugefügt.",
        "Der Artikel wurde am Montag erfolgreich in den Bundestag eingebracht.",
    ),
    (
        R::Boilerplate,
        "twittern",
        "Der Minister will weniger twittern und mehr arbeiten.",
    ),
    (
        R::Boilerplate,
        "Expand All",
        "Expand all the options before you choose, the guide says.",
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

#[test]
fn phrases_sit_where_their_family_wants_them() {
    // Start: at the block's start or after its leading punctuation, not in the middle.
    assert_eq!(v("— Read also: the budget vote"), Some(R::Related));
    assert_eq!(v("Critics read also the footnotes of the budget"), None);
    // Whole: the block is the phrase, give or take punctuation.
    assert_eq!(v("» Show more «"), Some(R::Boilerplate));
    assert_eq!(v("Show more patience with the new staff"), None);
    // A Start phrase that runs past the trimmed block still counts from the block's start.
    assert_eq!(v("Related:"), Some(R::Related));
}
