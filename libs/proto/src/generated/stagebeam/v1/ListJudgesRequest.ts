// Original file: proto/stagebeam/v1/reasoner.proto


export interface ListJudgesRequest {
}

export interface ListJudgesRequest__Output {
}
