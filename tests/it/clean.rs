//! `newsd clean --site-memory`: priming from a directory of pages, and `--explain` naming it.

use crate::util::{assert_ok, newsd, stderr, write_config};

const WORDS: [&str; 10] = [
    "harbour", "council", "orchard", "railway", "library", "festival", "bridge", "market",
    "museum", "ferry",
];

/// Page `n` of one site: its own story, the site's newsletter box and "most read" rail
/// inside the article, and a canonical URL naming the host.
fn page(host: &str, n: usize) -> String {
    let (a, b) = (WORDS[n % 10], WORDS[(n * 3 + 1) % 10]);
    format!(
        "<html><head><link rel=canonical href=\"https://{host}/news/{n}\"></head><body><article>\
         <h1>The {a} and the {b}</h1>\
         <p>Residents met to discuss the {a} plan, which the {b} committee had sent back twice, \
         and decided after a long evening that the work should go ahead in the spring.</p>\
         <p>The {b} group asked for more time, while supporters of the {a} said every delay \
         raised the cost for everyone living in the town.</p>\
         <div><p>The Courier's morning briefing: five stories worth your time, every weekday at 7.</p></div>\
         <ul><li><a href=/r1>Why the tide tables changed this year</a></li>\
         <li><a href=/r2>Ten walks along the old canal</a></li>\
         <li><a href=/r3>A bakery that never closes</a></li></ul>\
         </article></body></html>"
    )
}

#[test]
fn site_memory_primed_from_a_directory_drops_the_hosts_furniture_and_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[], "");
    let pages = dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    for n in 0..10 {
        std::fs::write(
            pages.join(format!("p{n}.html")),
            page("www.courier.example", n),
        )
        .unwrap();
    }
    // A page of another host in the same directory: counted apart.
    std::fs::write(pages.join("other.html"), page("other.example", 3)).unwrap();
    let input = dir.path().join("new.html");
    std::fs::write(&input, page("www.courier.example", 11)).unwrap();
    let input = input.to_str().unwrap();
    let prime = pages.to_str().unwrap();

    let plain = newsd(&config, &["clean", "--body-only", input]);
    assert_ok(&plain);
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(plain.contains("morning briefing"), "{plain}");

    let out = newsd(
        &config,
        &[
            "clean",
            "--body-only",
            "--explain",
            "--site-memory",
            prime,
            input,
        ],
    );
    assert_ok(&out);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let err = stderr(&out);
    assert!(!text.contains("morning briefing"), "{text}");
    assert!(!text.contains("bakery that never closes"), "{text}");
    assert!(text.contains("Residents met to discuss"), "{text}");
    assert!(err.contains("site memory: 11 pages of 2 hosts"), "{err}");
    assert!(
        err.contains(
            "removed [site chrome: seen on 10 of the last 10 pages of this host] \
             The Courier's morning briefing"
        ),
        "{err}"
    );

    // The other host's page is cleaned as if no memory existed.
    let other = dir.path().join("other-new.html");
    std::fs::write(&other, page("other.example", 11)).unwrap();
    let other = other.to_str().unwrap();
    let with = newsd(
        &config,
        &["clean", "--body-only", "--site-memory", prime, other],
    );
    let without = newsd(&config, &["clean", "--body-only", other]);
    assert_ok(&with);
    assert_eq!(with.stdout, without.stdout);

    // A directory that does not exist is a clear error naming it.
    let out = newsd(
        &config,
        &["clean", "--site-memory", "/nonexistent/pages", input],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/pages"),
        "{}",
        stderr(&out)
    );
}
