// Original file: proto/stagebeam/v1/reasoner.proto


export interface DescribeRequest {
}

export interface DescribeRequest__Output {
}
