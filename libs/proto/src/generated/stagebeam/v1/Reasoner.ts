// Original file: proto/stagebeam/v1/reasoner.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _stagebeam_v1_DescribeRequest, DescribeRequest__Output as _stagebeam_v1_DescribeRequest__Output } from '../../stagebeam/v1/DescribeRequest.ts';
import type { DescribeResponse as _stagebeam_v1_DescribeResponse, DescribeResponse__Output as _stagebeam_v1_DescribeResponse__Output } from '../../stagebeam/v1/DescribeResponse.ts';
import type { ListJudgesRequest as _stagebeam_v1_ListJudgesRequest, ListJudgesRequest__Output as _stagebeam_v1_ListJudgesRequest__Output } from '../../stagebeam/v1/ListJudgesRequest.ts';
import type { ListJudgesResponse as _stagebeam_v1_ListJudgesResponse, ListJudgesResponse__Output as _stagebeam_v1_ListJudgesResponse__Output } from '../../stagebeam/v1/ListJudgesResponse.ts';
import type { ReasonEvent as _stagebeam_v1_ReasonEvent, ReasonEvent__Output as _stagebeam_v1_ReasonEvent__Output } from '../../stagebeam/v1/ReasonEvent.ts';
import type { ReasonRequest as _stagebeam_v1_ReasonRequest, ReasonRequest__Output as _stagebeam_v1_ReasonRequest__Output } from '../../stagebeam/v1/ReasonRequest.ts';
import type { ReasonResponse as _stagebeam_v1_ReasonResponse, ReasonResponse__Output as _stagebeam_v1_ReasonResponse__Output } from '../../stagebeam/v1/ReasonResponse.ts';

/**
 * Reasoner answers a question about an image in LLaVA-CoT's four stages and shows only the conclusion,
 * unless the caller asks for the hidden stages or the search trace.
 */
export interface ReasonerClient extends grpc.Client {
  /**
   * What this gateway is and what answers behind it (an evaluation's provenance): version, commit, pools, servers.
   */
  Describe(argument: _stagebeam_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _stagebeam_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _stagebeam_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _stagebeam_v1_DescribeRequest, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * What this gateway is and what answers behind it (an evaluation's provenance): version, commit, pools, servers.
   */
  describe(argument: _stagebeam_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _stagebeam_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _stagebeam_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _stagebeam_v1_DescribeRequest, callback: grpc.requestCallback<_stagebeam_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The judges this gateway declares (a request picks one with judge.name), with the default.
   */
  ListJudges(argument: _stagebeam_v1_ListJudgesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  ListJudges(argument: _stagebeam_v1_ListJudgesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  ListJudges(argument: _stagebeam_v1_ListJudgesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  ListJudges(argument: _stagebeam_v1_ListJudgesRequest, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The judges this gateway declares (a request picks one with judge.name), with the default.
   */
  listJudges(argument: _stagebeam_v1_ListJudgesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  listJudges(argument: _stagebeam_v1_ListJudgesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  listJudges(argument: _stagebeam_v1_ListJudgesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  listJudges(argument: _stagebeam_v1_ListJudgesRequest, callback: grpc.requestCallback<_stagebeam_v1_ListJudgesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs the whole search and answers once.
   */
  Reason(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  Reason(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  Reason(argument: _stagebeam_v1_ReasonRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  Reason(argument: _stagebeam_v1_ReasonRequest, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Runs the whole search and answers once.
   */
  reason(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  reason(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  reason(argument: _stagebeam_v1_ReasonRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  reason(argument: _stagebeam_v1_ReasonRequest, callback: grpc.requestCallback<_stagebeam_v1_ReasonResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs the same search and streams its events as they happen; the last event carries the response.
   */
  ReasonStream(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_stagebeam_v1_ReasonEvent__Output>;
  ReasonStream(argument: _stagebeam_v1_ReasonRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_stagebeam_v1_ReasonEvent__Output>;
  /**
   * Runs the same search and streams its events as they happen; the last event carries the response.
   */
  reasonStream(argument: _stagebeam_v1_ReasonRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_stagebeam_v1_ReasonEvent__Output>;
  reasonStream(argument: _stagebeam_v1_ReasonRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_stagebeam_v1_ReasonEvent__Output>;
  
}

/**
 * Reasoner answers a question about an image in LLaVA-CoT's four stages and shows only the conclusion,
 * unless the caller asks for the hidden stages or the search trace.
 */
export interface ReasonerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * What this gateway is and what answers behind it (an evaluation's provenance): version, commit, pools, servers.
   */
  Describe: grpc.handleUnaryCall<_stagebeam_v1_DescribeRequest__Output, _stagebeam_v1_DescribeResponse>;
  
  /**
   * The judges this gateway declares (a request picks one with judge.name), with the default.
   */
  ListJudges: grpc.handleUnaryCall<_stagebeam_v1_ListJudgesRequest__Output, _stagebeam_v1_ListJudgesResponse>;
  
  /**
   * Runs the whole search and answers once.
   */
  Reason: grpc.handleUnaryCall<_stagebeam_v1_ReasonRequest__Output, _stagebeam_v1_ReasonResponse>;
  
  /**
   * Runs the same search and streams its events as they happen; the last event carries the response.
   */
  ReasonStream: grpc.handleServerStreamingCall<_stagebeam_v1_ReasonRequest__Output, _stagebeam_v1_ReasonEvent>;
  
}

export interface ReasonerDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_stagebeam_v1_DescribeRequest, _stagebeam_v1_DescribeResponse, _stagebeam_v1_DescribeRequest__Output, _stagebeam_v1_DescribeResponse__Output>
  ListJudges: MethodDefinition<_stagebeam_v1_ListJudgesRequest, _stagebeam_v1_ListJudgesResponse, _stagebeam_v1_ListJudgesRequest__Output, _stagebeam_v1_ListJudgesResponse__Output>
  Reason: MethodDefinition<_stagebeam_v1_ReasonRequest, _stagebeam_v1_ReasonResponse, _stagebeam_v1_ReasonRequest__Output, _stagebeam_v1_ReasonResponse__Output>
  ReasonStream: MethodDefinition<_stagebeam_v1_ReasonRequest, _stagebeam_v1_ReasonEvent, _stagebeam_v1_ReasonRequest__Output, _stagebeam_v1_ReasonEvent__Output>
}
