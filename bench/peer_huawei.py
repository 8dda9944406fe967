"""The Huawei peer: list every key pair with the official Python SDK (huaweicloudsdkkps),
following page_info.next_marker as the SDK's users must (the SDK has no paginator).

    peer_huawei.py ENDPOINT PROJECT_ID   (AK/SK from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK)
Prints the number of key pairs and round trips.
"""
import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkkps.v3 import KpsClient, ListKeypairsRequest


def main():
    endpoint, project_id = sys.argv[1], sys.argv[2]
    creds = BasicCredentials(
        os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"], project_id
    )
    client = (
        KpsClient.new_builder()
        .with_credentials(creds)
        .with_endpoint(endpoint)
        .with_http_config(HttpConfig.get_default_config())
        .build()
    )
    names, marker, trips = [], None, 0
    while True:
        req = ListKeypairsRequest(limit="1000", marker=marker)
        resp = client.list_keypairs(req)
        trips += 1
        page = resp.keypairs or []
        names.extend(k.keypair.name for k in page)
        nxt = resp.page_info.next_marker if resp.page_info else None
        if not nxt or len(page) < 1000:
            break
        marker = nxt
    print(f"{len(names)} key pairs, {trips} round trips")


if __name__ == "__main__":
    main()
