//! The RPCs the page calls, by their gRPC paths (`/package.Service/Method`:
//! the names of `proto/bank/v1/lab.proto` and `customer.proto`).
//!
//! The generated clients spell these paths too, but each generated method is
//! its own copy of tonic's client machinery, one per message type; the page
//! calls through [`super::grpc`] instead, one copy for every RPC, and names
//! the RPC by its path here. A test checks each one against the proto files.

pub const OPEN: &str = "/bank.v1.Lab/Open";
pub const EXAMPLES: &str = "/bank.v1.Lab/Examples";
pub const LOAD: &str = "/bank.v1.Lab/Load";
pub const CONTROL: &str = "/bank.v1.Lab/Control";
pub const WATCH: &str = "/bank.v1.Lab/Watch";
pub const INJECT: &str = "/bank.v1.Lab/Inject";
pub const COMPARE: &str = "/bank.v1.Lab/Compare";
pub const CUSTOMER_REQUEST: &str = "/bank.v1.Customer/Request";

/// Every path above.
pub const ALL: [&str; 8] =
    [OPEN, EXAMPLES, LOAD, CONTROL, WATCH, INJECT, COMPARE, CUSTOMER_REQUEST];
