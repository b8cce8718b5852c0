//! The embed's files and the demo page.

use crate::both_backends;
use crate::helpers::TestApp;

both_backends! {
    async fn embed_files_are_cached_with_etag_and_gzipped(app: TestApp) {
        for (path, kind) in [("/embed.js", "javascript"), ("/embed-form.js", "javascript"), ("/embed-live.js", "javascript"), ("/embed.css", "css"), ("/count.js", "javascript"), ("/locales/de.json", "json")] {
            let response = app.client.get(format!("{}{path}", app.address))
                .header("accept-encoding", "gzip").send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let h = response.headers().clone();
            assert!(h["content-type"].to_str().unwrap().contains(kind), "{path}");
            assert_eq!(h["content-encoding"], "gzip", "{path}");
            assert!(h["cache-control"].to_str().unwrap().contains("max-age="), "{path}");
            // embed.js imports embed-form.js as a module from the host page's origin: CORS.
            assert_eq!(h["access-control-allow-origin"], "*", "{path}");
            let etag = h["etag"].to_str().unwrap().to_string();
            let again = app.client.get(format!("{}{path}", app.address))
                .header("if-none-match", &etag).send().await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
        }
        let missing = app.client.get(format!("{}/locales/xx.json", app.address)).send().await.unwrap();
        assert_eq!(missing.status(), 404);
    }

    async fn demo_page_embeds_the_thread(app: TestApp) {
        let response = app.client.get(&app.address).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains("kith-thread"));
        assert!(html.contains("/embed.js"));
    }
}
