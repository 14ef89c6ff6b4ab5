"""`interloop.partner.v1.PartnerService`: first version, a handshake for vendors."""

from __future__ import annotations

import grpc
from interloop.partner.v1 import partner_pb2, partner_pb2_grpc

API_VERSION = "interloop.partner.v1"


class PartnerServicer(partner_pb2_grpc.PartnerServiceServicer):
    async def GetPartnerInfo(
        self, request: partner_pb2.GetPartnerInfoRequest, context: grpc.aio.ServicerContext
    ):
        partner = dict(context.invocation_metadata() or ()).get("x-partner-id", "")
        return partner_pb2.GetPartnerInfoResponse(api_version=API_VERSION, partner_id=partner)
