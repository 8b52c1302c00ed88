//! The generated WIT bindings, one world per enabled feature.

#[cfg(feature = "transformer")]
pub mod transformer {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "devloop:plugin/transformer@0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_transformer_world",
        default_bindings_module: "devloop_plugin_sdk::__bindings::transformer",
    });
}

#[cfg(feature = "builder")]
pub mod builder {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "devloop:plugin/builder@0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_builder_world",
        default_bindings_module: "devloop_plugin_sdk::__bindings::builder",
    });
}

#[cfg(feature = "tester")]
pub mod tester {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "devloop:plugin/tester@0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_tester_world",
        default_bindings_module: "devloop_plugin_sdk::__bindings::tester",
    });
}
