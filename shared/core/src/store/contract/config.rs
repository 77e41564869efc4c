//! The contract of [`ConfigStore`]: one document, replaced only as the version read.

use crate::store::ConfigStore;

/// The config document: created once, then versioned conditional updates; its version
/// reads alone as it stands.
pub(super) async fn document(store: &dyn ConfigStore) {
    assert_eq!(store.config_document().await.expect("doc"), None);
    assert_eq!(store.config_version().await.expect("version"), None);
    let v1 = store
        .put_config_document("{\"projects\":[]}".into(), None, 10)
        .await
        .expect("put")
        .expect("created");
    assert_eq!(store.config_version().await.expect("version"), Some(v1));
    assert_eq!(
        store
            .put_config_document("{}".into(), None, 11)
            .await
            .expect("put"),
        None,
        "a second create loses"
    );
    let v2 = store
        .put_config_document("{\"projects\":[1]}".into(), Some(v1), 12)
        .await
        .expect("put")
        .expect("current version wins");
    assert!(v2 > v1);
    assert_eq!(
        store
            .put_config_document("{}".into(), Some(v1), 13)
            .await
            .expect("put"),
        None,
        "a stale version loses"
    );
    let doc = store.config_document().await.expect("doc").expect("exists");
    assert_eq!(
        (doc.text.as_str(), doc.version, doc.updated_at),
        ("{\"projects\":[1]}", v2, 12)
    );
    assert_eq!(
        store.config_version().await.expect("version"),
        Some(v2),
        "the version of the document as it stands, after a lost write too"
    );
}
