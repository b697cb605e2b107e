//! `--cluster FILE` for the drivers (`bank run`, `bank serve`): channels to
//! branch processes started elsewhere with `bank branch`.

use std::path::Path;

use bank_backend::cluster::file::ClusterFile;
use bank_backend::cluster::remote::ExternalCluster;
use bank_backend::net::auth::Token;
use bank_backend::net::transport::ClientSecurity;

use crate::exit::Failure;

/// Channels to the branches of cluster file `path`, with its token (or
/// `token`, or `$BANK_TOKEN`) and its TLS settings. Every problem with the
/// file or the settings is the user's to fix: [`Failure::BadInput`].
///
/// Call it inside the runtime: the channels spawn their connection tasks.
pub fn connect_external(path: &Path, token: Option<&str>) -> Result<ExternalCluster, Failure> {
    let file = ClusterFile::load(path)?;
    let token = Token::from_sources(token, file.token.as_deref())
        .map_err(|e| Failure::BadInput(format!("token: {e}")))?;
    let tls = file.tls.client().map_err(Failure::bad_input)?;
    ExternalCluster::connect(&file, &ClientSecurity { token, tls }).map_err(Failure::bad_input)
}
