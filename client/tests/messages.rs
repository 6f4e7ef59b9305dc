use colonies_client::envelope::decode_payload;
use colonies_client::messages::{AssignProcessMsg, DecodeError, Message};
use proptest::prelude::*;

/// (payloadtype, base64 payload) of the signed requests in TV-4 and TV-6.
const SPEC_PAYLOADS: &[(&str, &str)] = &[
    ("getcoloniesmsg", "eyJtc2d0eXBlIjoiZ2V0Y29sb25pZXNtc2cifQ=="),
    (
        "addcolonymsg",
        "eyJjb2xvbnkiOnsiY29sb255aWQiOiI0Nzg3YTUwNzE4NTZhNGFjZjcwMmIyZmZjZWE0MjJlMzIzN2E2NzljNjgxMzE0MTEzZDg2MTM5NDYxMjkwY2Y0IiwibmFtZSI6ImRldiJ9LCJtc2d0eXBlIjoiYWRkY29sb255bXNnIn0=",
    ),
    ("getcolonymsg", "eyJjb2xvbnluYW1lIjoiZGV2IiwibXNndHlwZSI6ImdldGNvbG9ueW1zZyJ9"),
    (
        "assignprocessmsg",
        "eyJjb2xvbnluYW1lIjoiZGV2IiwidGltZW91dCI6MTAsImF2YWlsYWJsZWNwdSI6IiIsImF2YWlsYWJsZW1lbSI6IiIsIm1zZ3R5cGUiOiJhc3NpZ25wcm9jZXNzbXNnIn0=",
    ),
    (
        "addexecutormsg",
        "eyJleGVjdXRvciI6eyJleGVjdXRvcmlkIjoiM2ZjMDVjZjNkZjRiNDk0ZTk1ZDZhM2QyOTdhMzRmMTk5MzhmN2RhYTc0MjJhYjBkNGY3OTQ0NTQxMzMzNDFhYyIsImV4ZWN1dG9ydHlwZSI6ImNsaSIsImV4ZWN1dG9ybmFtZSI6ImRldi1jbGkiLCJjb2xvbnluYW1lIjoiZGV2Iiwic3RhdGUiOjAsInJlcXVpcmVmdW5jcmVnIjpmYWxzZSwiY29tbWlzc2lvbnRpbWUiOiIwMDAxLTAxLTAxVDAwOjAwOjAwWiIsImxhc3RoZWFyZGZyb210aW1lIjoiMDAwMS0wMS0wMVQwMDowMDowMFoiLCJjYXBhYmlsaXRpZXMiOnsiaGFyZHdhcmUiOm51bGwsInNvZnR3YXJlIjpudWxsfSwiYWxsb2NhdGlvbnMiOnsicHJvamVjdHMiOm51bGx9fSwibXNndHlwZSI6ImFkZGV4ZWN1dG9ybXNnIn0=",
    ),
    (
        "approveexecutormsg",
        "eyJjb2xvbnluYW1lIjoiZGV2IiwiZXhlY3V0b3JuYW1lIjoiZGV2LWNsaSIsIm1zZ3R5cGUiOiJhcHByb3ZlZXhlY3V0b3Jtc2cifQ==",
    ),
];

#[test]
fn spec_payloads_decode_and_encode_byte_for_byte() {
    for (payloadtype, payload) in SPEC_PAYLOADS {
        let json = decode_payload(payload).unwrap();
        let message = Message::decode(payloadtype, &json).unwrap_or_else(|e| panic!("{payloadtype}: {e}"));
        assert_eq!(message.payload_type(), *payloadtype);
        assert_eq!(String::from_utf8(message.to_payload_json()).unwrap(), String::from_utf8(json).unwrap());
    }
}

#[test]
fn the_go_cli_submit_payload_decodes_with_its_nulls() {
    let json = br#"{"spec":{"nodename":"","funcname":"echo","args":["hello",42,{"a":1}],"kwargs":{"k":"v"},"priority":5,"maxwaittime":600,"maxexectime":30,"maxretries":2,"conditions":{"colonyname":"dev","executornames":null,"executortype":"cli","dependencies":null,"nodes":0,"cpu":"500m","processes":0,"processespernode":0,"mem":"1Gi","storage":"","gpu":{"name":"","mem":"","count":0,"nodecount":0},"walltime":0},"label":"mylabel","fs":{"mount":"","snapshots":null,"dirs":null},"env":{"E1":"v1"}},"msgtype":"submitfuncspecmsg"}"#;
    let Message::SubmitFunctionSpec(message) = Message::decode("submitfuncspecmsg", json).unwrap() else {
        panic!("wrong variant")
    };
    let spec = message.spec.unwrap();
    assert_eq!((spec.args.len(), spec.priority, spec.conditions.mem.as_str()), (3, 5, "1Gi"));
    assert!(spec.conditions.dependencies.is_empty());
}

#[test]
fn decoding_errors_carry_the_reference_status_and_text() {
    let wrong_type = Message::decode("getcolonymsg", br#"{"colonyname":"dev","msgtype":"getcoloniesmsg"}"#);
    let e = wrong_type.unwrap_err();
    assert_eq!(
        (e.status(), e.to_string().as_str()),
        (400, "Failed to get colony, msg.MsgType does not match payloadType")
    );
    let e = Message::decode("getcolonymsg", b"{not json").unwrap_err();
    assert_eq!((e.status(), e.to_string().as_str()), (400, "Failed to get colony, invalid JSON"));
    let e = Message::decode("getcolonymsg", b"null").unwrap_err();
    assert_eq!(
        e,
        DecodeError::InvalidJson("Failed to get colony, invalid JSON"),
        "a null payload is a 400, not a crash"
    );
    let e = Message::decode("assignprocessmsg", br#"{"timeout":"ten","msgtype":"assignprocessmsg"}"#).unwrap_err();
    assert_eq!(e.status(), 400, "a string where an int goes");
    let e = Message::decode("foobarmsg", b"{}").unwrap_err();
    assert_eq!((e.status(), e.to_string().as_str()), (403, "invalid rpcMsg.PayloadType: foobarmsg"));
    assert!(Message::decode("", b"{}").unwrap_err().to_string().contains("COLONIES_PRVKEY"));
}

#[test]
fn missing_fields_are_zero_values_and_unknown_ones_are_ignored() {
    let message = Message::decode("assignprocessmsg", br#"{"msgtype":"assignprocessmsg","extra":[1]}"#).unwrap();
    assert_eq!(message, Message::AssignProcess(AssignProcessMsg::default()));
    let closed = Message::decode("closefailedmsg", br#"{"processid":"p","errors":null,"msgtype":"closefailedmsg"}"#);
    assert!(closed.is_ok());
}

#[test]
fn empty_messages_encode_as_the_go_client_does() {
    let message = Message::decode("getcoloniesmsg", br#"{"msgtype":"getcoloniesmsg"}"#).unwrap();
    assert_eq!(message.to_payload_json(), br#"{"msgtype":"getcoloniesmsg"}"#);
}

proptest! {
    #[test]
    fn any_bytes_decode_to_a_message_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for payloadtype in ["submitfuncspecmsg", "addexecutormsg", "closesuccessfulmsg", "getlogsmsg"] {
            let _ = Message::decode(payloadtype, &bytes);
        }
    }
}

#[test]
fn a_function_is_read_under_fun_and_under_the_rust_sdks_function_key() {
    for key in ["fun", "function"] {
        let payload = format!(r#"{{"{key}":{{"funcname":"echo","executorname":"e"}},"msgtype":"addfunctionmsg"}}"#);
        let Message::AddFunction(message) = Message::decode("addfunctionmsg", payload.as_bytes()).unwrap() else {
            panic!("not an addfunctionmsg")
        };
        assert_eq!(message.fun.map(|f| f.funcname), Some("echo".to_string()), "under {key}");
    }
    // What we send is the reference's key.
    let sent = Message::decode("addfunctionmsg", br#"{"function":{"funcname":"echo"},"msgtype":"addfunctionmsg"}"#);
    assert!(String::from_utf8(sent.unwrap().to_payload_json()).unwrap().starts_with(r#"{"fun":"#));
}
