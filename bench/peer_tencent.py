"""The Tencent SDK peer: list every key pair with tencentcloud-sdk-python (what tccli is built
on) in one process, paging by Offset/Limit=100 sequentially, as the SDK's own examples do (it
has no paginator and no rate limiter). A page refused with RequestLimitExceeded (10/s) is
retried after 1 s, the first step of the SDK's own StandardRetryer backoff. (StandardRetryer
itself is not used: in tencentcloud-sdk-python 3.1.195 it keeps the first attempt's error
across attempts, so a page that was throttled once fails after ~63 s even when a retry
succeeded; see tencentcloud/common/retry.py `send_request`.)

    peer_tencent.py ENDPOINT REGION   (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)
ENDPOINT may be http://127.0.0.1:PORT: the SDK keeps a scheme given in the endpoint.
"""
import os
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import cvm_client, models


def main():
    endpoint, region = sys.argv[1], sys.argv[2]
    cred = credential.Credential(
        os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"]
    )
    scheme = "http" if endpoint.startswith("http://") else "https"
    http = HttpProfile(protocol=scheme, endpoint=endpoint.split("://", 1)[-1])
    client = cvm_client.CvmClient(cred, region, ClientProfile(httpProfile=http))
    names, offset, trips, throttled, total = [], 0, 0, 0, None
    while total is None or offset < total:
        req = models.DescribeKeyPairsRequest()
        req.Offset, req.Limit = offset, 100
        for attempt in range(6):
            trips += 1
            try:
                resp = client.DescribeKeyPairs(req)
                break
            except TencentCloudSDKException as e:
                if not e.get_code().startswith("RequestLimitExceeded") or attempt == 5:
                    raise
                throttled += 1
                time.sleep(1)
        total = resp.TotalCount
        page = resp.KeyPairSet or []
        if not page:
            break
        names.extend(k.KeyName for k in page)
        offset += len(page)
    print(f"{len(names)} key pairs, {trips} round trips ({throttled} throttled)")


if __name__ == "__main__":
    main()
