//! One way to make a gRPC call for every RPC of the page: the messages cross
//! it already encoded (protobuf bytes out, protobuf bytes in), so tonic's
//! client machinery (framing, the request body, the response stream and its
//! trailers) is compiled once for the whole page, not once per pair of
//! message types as with the generated clients: that saved several KB of the
//! gzipped wasm. [`super::Api`] encodes and decodes the typed messages around
//! these calls.

use prost::bytes::{Buf, BufMut};
use tonic::client::Grpc;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder, Streaming};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Request, Status};
use tonic_web_wasm_client::Client;

/// A [`Codec`] for messages already encoded: it passes their bytes through.
#[derive(Clone, Copy, Debug, Default)]
pub struct Encoded;

impl Codec for Encoded {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Encoded;
    type Decoder = Encoded;

    fn encoder(&mut self) -> Encoded {
        Encoded
    }

    fn decoder(&mut self) -> Encoded {
        Encoded
    }
}

impl Encoder for Encoded {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, message: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&message);
        Ok(())
    }
}

impl Decoder for Encoded {
    type Item = Vec<u8>;
    type Error = Status;

    /// `src` holds exactly one message.
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut message = vec![0; src.remaining()];
        src.copy_to_slice(&mut message);
        Ok(Some(message))
    }
}

/// A client for the server at `origin` (a `Client` is just the base URL).
async fn ready(origin: &str) -> Result<Grpc<Client>, Status> {
    let mut grpc = Grpc::new(Client::new(origin.to_owned()));
    // As the generated clients word it.
    grpc.ready().await.map_err(|e| Status::unknown(format!("Service was not ready: {e}")))?;
    Ok(grpc)
}

/// The metadata header that names the call's lab (see `lab.proto`).
const LAB_HEADER: &str = "x-lab-id";

/// `request`, naming `lab` (a lab id or follow id) if given.
fn named(request: Vec<u8>, lab: Option<&str>) -> Result<Request<Vec<u8>>, Status> {
    let mut request = Request::new(request);
    if let Some(lab) = lab {
        let value = lab
            .parse()
            .map_err(|_| Status::invalid_argument(format!("{lab:?} is not a lab id")))?;
        request.metadata_mut().insert(LAB_HEADER, value);
    }
    Ok(request)
}

/// One request, one reply: the RPC at `path` (see [`super::path`]), for
/// the lab `lab`.
pub async fn unary(
    origin: &str,
    lab: Option<&str>,
    path: &'static str,
    request: Vec<u8>,
) -> Result<Vec<u8>, Status> {
    let request = named(request, lab)?;
    let mut grpc = ready(origin).await?;
    let path = PathAndQuery::from_static(path);
    Ok(grpc.unary(request, path, Encoded).await?.into_inner())
}

/// One request, a stream of replies: the RPC at `path`, for the lab `lab`.
pub async fn server_streaming(
    origin: &str,
    lab: Option<&str>,
    path: &'static str,
    request: Vec<u8>,
) -> Result<Streaming<Vec<u8>>, Status> {
    let request = named(request, lab)?;
    let mut grpc = ready(origin).await?;
    let path = PathAndQuery::from_static(path);
    Ok(grpc.server_streaming(request, path, Encoded).await?.into_inner())
}
