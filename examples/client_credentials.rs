//! Getting a token with the `oauth2` crate (RFC 6749 §4.4) and listing users.
//!
//! Start a server (`cargo run --release -p roost`), note the printed credentials, then:
//!
//! ```sh
//! ROOST_URL=http://127.0.0.1:8080 ROOST_CLIENT_ID=… ROOST_CLIENT_SECRET=… \
//!   cargo run -p roost --example client_credentials
//! ```

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("ROOST_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let required = |name: &str| {
        std::env::var(name).map_err(|_| {
            format!(
                "{name} is not set: start a server (cargo run --release -p roost), then run \
                 ROOST_CLIENT_ID=… ROOST_CLIENT_SECRET=… [ROOST_URL={base}] \
                 cargo run -p roost --example client_credentials with the credentials it printed"
            )
        })
    };
    let client_id = required("ROOST_CLIENT_ID")?;
    let client_secret = required("ROOST_CLIENT_SECRET")?;

    let client = BasicClient::new(ClientId::new(client_id))
        .set_client_secret(ClientSecret::new(client_secret))
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token"))?);
    let http = oauth2::ureq::builder().redirects(0).build();
    let token = client.exchange_client_credentials().request(&http)?;
    println!("token expires in {:?}", token.expires_in());

    let users: serde_json::Value = ureq::get(&format!("{base}/v1/users"))
        .set("Authorization", &format!("Bearer {}", token.access_token().secret()))
        .call()?
        .into_json()?;
    println!("{}", serde_json::to_string_pretty(&users)?);
    Ok(())
}
