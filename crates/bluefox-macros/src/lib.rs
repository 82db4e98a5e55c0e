//! `#[derive(BluefoxBase)]` (interface stub: being written).

use proc_macro::TokenStream;

/// Derives `bluefox_runtime::BluefoxBase` (stub).
#[proc_macro_derive(BluefoxBase, attributes(bluefox))]
pub fn derive_bluefox_base(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
