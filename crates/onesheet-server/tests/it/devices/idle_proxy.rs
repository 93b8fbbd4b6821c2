//! A reverse proxy that closes connections idle for a while, as nginx does after its
//! `proxy_read_timeout`: the server's pings must keep a quiet device socket open through it.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// Starts a loopback proxy to `target` that closes a connection after `idle` without a byte
/// in either direction, and returns its address.
async fn idle_closing_proxy(target: SocketAddr, idle: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(upstream) = TcpStream::connect(target).await {
                    pipe_until_idle(client, upstream, idle).await;
                }
            });
        }
    });
    address
}

async fn pipe_until_idle(client: TcpStream, upstream: TcpStream, idle: Duration) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let mut from_client = [0u8; 8192];
    let mut from_upstream = [0u8; 8192];
    loop {
        let step = tokio::time::timeout(idle, async {
            tokio::select! {
                read = client_read.read(&mut from_client) => match read {
                    Ok(0) | Err(_) => false,
                    Ok(count) => upstream_write.write_all(&from_client[..count]).await.is_ok(),
                },
                read = upstream_read.read(&mut from_upstream) => match read {
                    Ok(0) | Err(_) => false,
                    Ok(count) => client_write.write_all(&from_upstream[..count]).await.is_ok(),
                },
            }
        })
        .await;
        if !matches!(step, Ok(true)) {
            return;
        }
    }
}

/// Connects through `proxy` as the paired device and returns the socket after `welcome`.
async fn connect_through(proxy: SocketAddr, device_id: &DeviceId, secret: &DeviceSecret) -> Screen {
    let url = format!("ws://{proxy}/api/v1/devices/ws");
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut screen = Screen { socket };
    screen.send(&device_hello(device_id, secret)).await;
    let welcome = screen.next().await;
    assert!(
        matches!(welcome, ServerMessage::Welcome { .. }),
        "{welcome:?}"
    );
    screen
}

/// Reads from `screen` for `duration` and returns whether the socket stayed open.
async fn stays_open(screen: &mut Screen, duration: Duration) -> bool {
    tokio::time::timeout(duration, async {
        while screen.try_next().await.is_some() {}
    })
    .await
    .is_err()
}

#[tokio::test]
async fn pings_keep_socket_through_idle_proxy() {
    let config = DeviceConfig {
        ping_interval: Duration::from_millis(150),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, secret, screen) = app.pair("Porch").await;
    drop(screen);

    // The proxy cuts connections quiet for 500 ms; pings every 150 ms keep this one busy.
    let proxy = idle_closing_proxy(app.address, Duration::from_millis(500)).await;
    let mut screen = connect_through(proxy, &device_id, &secret).await;
    assert!(
        stays_open(&mut screen, Duration::from_secs(2)).await,
        "the idle proxy closed a socket that the server pings"
    );
}

#[tokio::test]
async fn idle_proxy_cuts_socket_without_pings() {
    // The control: with pings rarer than the proxy's limit, the proxy closes the socket, so the
    // test above proves that the pings keep it open.
    let config = DeviceConfig {
        ping_interval: Duration::from_secs(30),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, secret, screen) = app.pair("Porch").await;
    drop(screen);

    let proxy = idle_closing_proxy(app.address, Duration::from_millis(500)).await;
    let mut screen = connect_through(proxy, &device_id, &secret).await;
    assert!(
        !stays_open(&mut screen, Duration::from_secs(2)).await,
        "the proxy kept a quiet socket open: the test proves nothing"
    );
}
